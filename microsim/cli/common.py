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


PROGRESS_SECONDS = 5.0
"""Seconds between progress lines when stderr is not a terminal (a log file, a pipe, a batch
job); MICROSIM_PROGRESS_SECONDS changes it. Display only: no model parameter."""


def progress_seconds() -> float:
    raw = os.environ.get("MICROSIM_PROGRESS_SECONDS")
    if raw is None:
        return PROGRESS_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value >= 0 or value == float("inf"):
        from microsim.errors import InputError
        raise InputError(None, "the environment variable must be a number of seconds, 0 or more",
                         key="MICROSIM_PROGRESS_SECONDS", value=raw, has_value=True)
    return value


class _Rate:
    """Chunks and persons computed in this run, counted from its starting point (the chunks a
    resumed run restored from its checkpoint are where it starts, not part of its rate)."""

    def __init__(self, total: int):
        self.total = total
        self.begin(0)

    def begin(self, done: int) -> None:
        self.start, self.first, self.done, self.persons = time.perf_counter(), done, done, 0

    def add(self, done: int, persons: int) -> None:
        self.done = done
        self.persons += persons

    def elapsed(self) -> float:
        return max(time.perf_counter() - self.start, 1e-9)

    def persons_per_second(self) -> float:
        return self.persons / self.elapsed()

    def seconds_left(self) -> float | None:
        new = self.done - self.first
        return None if new <= 0 else (self.total - self.done) * self.elapsed() / new


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def progress_line(rate: _Rate) -> str:
    """`chunks 12/40 (30%), 245,000 persons/s, about 35 s left`."""
    text = f"chunks {rate.done}/{rate.total} ({100 * rate.done / max(rate.total, 1):.0f}%)"
    if rate.done > rate.first:
        text += f", {rate.persons_per_second():,.0f} persons/s"
    left = rate.seconds_left()
    if rate.done >= rate.total:
        text += f", done in {_duration(rate.elapsed())}"
    elif left is not None:
        text += f", about {_duration(left)} left"
    return text


def progress_bar(total: int, quiet: bool):
    """(bar, update): a rich progress bar on a terminal; on any other stderr no bar and an
    `update` that prints a line every few seconds (`progress_seconds`); (None, None) when
    quiet. `update(done, persons)` counts a finished chunk; `update.start(done)` (called by the
    engine before the first chunk) sets the starting point, the chunks a resumed run restored."""
    if quiet:
        return None, None
    rate = _Rate(total)
    if not sys.stderr.isatty():
        every = progress_seconds()
        last = [time.perf_counter()]

        def lines(done: int, n_persons: int) -> None:
            rate.add(done, n_persons)
            now = time.perf_counter()
            if done >= total or now - last[0] >= every:
                last[0] = now
                err.print(progress_line(rate), highlight=False, soft_wrap=True)

        def begin(done: int) -> None:
            rate.begin(done)
            last[0] = time.perf_counter()
            err.print(("resuming at " if done else "starting: ") + progress_line(rate),
                      highlight=False, soft_wrap=True)
        lines.start = begin
        return None, lines
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeRemainingColumn)
    bar = Progress(TextColumn("chunks"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=err)
    task = bar.add_task("run", total=total, rate="")
    shown = [False]

    def show() -> None:
        if not shown[0]:
            shown[0] = True
            bar.start()

    def update(done: int, n_persons: int) -> None:
        show()
        rate.add(done, n_persons)
        bar.update(task, completed=done, rate=f"{rate.persons_per_second():,.0f} persons/s")

    def start(done: int) -> None:
        rate.begin(done)
        bar.reset(task, completed=done, rate="")     # restored chunks: no part of the speed
        show()                                        # the bar appears at its starting point
    update.start = start
    return _Shown(bar, shown), update


class _Shown:
    """`with` the bar: it appears when the run starts counting (`update.start`), not before, so
    a resumed run never shows 0 chunks done; it is closed at the end either way."""

    def __init__(self, bar, shown: list[bool]):
        self.bar, self.shown = bar, shown

    def __enter__(self):
        return self.bar

    def __exit__(self, *exc) -> None:
        if self.shown[0]:
            self.bar.stop()
