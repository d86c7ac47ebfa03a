"""Shared CLI plumbing: consoles, the error guard and the progress bar.

Takes: nothing. Gives: `out` and `err` consoles, `guarded` (turns microsim
errors into one clean paragraph and an exit code, never a traceback) and
`progress_bar`.
"""

from __future__ import annotations

import functools
import os
import sys
import time

import typer
from rich.console import Console
from rich.text import Text

from microsim.errors import MicrosimError

# Console markup is off everywhere: names, labels, paths and messages that users wrote are
# printed literally ("[bold]", "dir [v2]"); styles are applied with `styled`, never by markup.
out = Console(width=None if sys.stdout.isatty() else 160, markup=False)
err = Console(stderr=True, markup=False)


def styled(word: str, style: str, rest: str = "") -> Text:
    """`word` in `style` followed by `rest`, both literal (no console markup is read)."""
    return Text.assemble((word, style), rest)


def guarded(fn):
    """Turn microsim errors into a clean message and exit code; never show a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MicrosimError as exc:
            err.print(styled("error:", "bold red", f" {exc}"), highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print(styled("interrupted", "bold red"))
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if os.environ.get("MICROSIM_DEBUG"):
                raise
            err.print(styled("internal error", "bold red",
                             f" ({type(exc).__name__}): {exc}. This is a bug in microsim; rerun "
                             "with MICROSIM_DEBUG=1 to see the traceback."),
                      highlight=False, soft_wrap=True)
            raise typer.Exit(70) from None
    return wrapper


def progress_bar(total: int, quiet: bool):
    """A rich progress bar on a terminal; nothing when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None, None
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeRemainingColumn)
    bar = Progress(TextColumn("chunks"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=err)
    task = bar.add_task("run", total=total, rate="")
    start = time.perf_counter()
    persons = [0]

    def update(done: int, n_persons: int) -> None:
        persons[0] += n_persons
        rate = persons[0] / max(time.perf_counter() - start, 1e-9)
        bar.update(task, completed=done, rate=f"{rate:,.0f} persons/s")
    return bar, update
