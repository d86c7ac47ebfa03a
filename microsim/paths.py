"""Paths users give: resolved without following a loop of links, and checked for what they are.

Takes: a path (and what it should be: a file or a folder). Gives: the resolved `Path`, or an
`InputError` that names the path (and the file and key that gave it, when there is one). A
FIFO, a device, a socket or a folder where a file is expected is refused without opening it,
so nothing ever blocks on reading a pipe or streams a device; a loop of symbolic links is
refused instead of raising deep inside the standard library.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from microsim.errors import InputError


def resolve(path: str | Path, where: str | Path | None = None, key: str | None = None,
            what: str = "path") -> Path:
    """`path` made absolute with links followed; a NUL byte, a name too long or a loop of
    links is refused naming `where` (the file that gave the path) and `key`."""
    try:
        return Path(path).resolve()
    except (ValueError, OSError, RuntimeError) as exc:   # RuntimeError: a symlink loop (3.11)
        reason = "a loop of symbolic links" if "loop" in str(exc).lower() else str(exc)
        raise InputError(where if where is not None else path,
                         f"{what} is not a usable path ({reason})", key=key,
                         value=str(path), has_value=where is not None) from None


def kind(path: Path) -> str | None:
    """What `path` is without opening it: 'file', 'folder', another kind ('FIFO', 'device',
    'socket'), 'loop' for a loop of links, or None when nothing is there."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == 40:   # ELOOP
            return "loop"
        return None if not os.path.lexists(path) else "unreadable"
    except ValueError:
        return None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _expect(path: Path, want: str, what: str, instead: str) -> Path:
    """`path` if it is what `kind` calls `want`; else an InputError saying what is there."""
    found = kind(path)
    if found == want:
        return path
    if found is None:
        raise InputError(path, f"{what} not found")
    if found == "loop":
        raise InputError(path, f"{what} is a loop of symbolic links")
    raise InputError(path, f"{what} is a {found}, {instead}")


def regular_file(path: Path, what: str = "file") -> Path:
    """`path` if it is a regular file; else an InputError saying what is there instead."""
    return _expect(path, "file", what, "not a regular file; nothing was read")


def folder(path: Path, what: str = "folder") -> Path:
    """`path` if it is a folder; else an InputError saying what is there instead."""
    return _expect(path, "folder", what, "not a folder")
