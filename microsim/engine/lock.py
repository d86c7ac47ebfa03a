"""One run at a time per output folder: a lock taken when a run starts, and the folders it made.

Takes: an output folder and the experiment that writes into it. Gives: `OutputLock`, held
for the whole run with `fcntl.flock` on `OUTPUT/.microsim-run.lock` (which records the
process, its experiment and when it started). A second run into the same folder is refused at
once, naming the first; the operating system releases the lock when a process ends, however
it ends, so a killed run never leaves a stale lock behind. `OutputLock` also remembers which
folders of the output path it created, so that a failed run removes only those (and only
while they hold nothing else).
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import json
import os
from pathlib import Path

from microsim.errors import RunError

LOCK_FILE = ".microsim-run.lock"


class OutputLock:
    def __init__(self, output: Path, experiment: Path):
        self.output = output
        self.experiment = experiment
        self.created: list[Path] = []      # folders this run made, outermost first
        self.fd: int | None = None
        self.made_file = False             # the lock file is this run's own

    @property
    def path(self) -> Path:
        return self.output / LOCK_FILE

    def acquire(self) -> None:
        self._make_folders()
        try:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                self.made_file = True
            except FileExistsError:
                fd = os.open(self.path, os.O_RDWR | os.O_NOFOLLOW)
        except OSError as exc:
            self.remove_created()
            raise RunError(f"cannot lock the output {self.output}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read(fd)
            os.close(fd)
            self.made_file = False
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RunError(f"cannot lock the output {self.output}: {exc.strerror}") from None
            raise RunError(f"another run is writing into {self.output}: {holder}; wait for it "
                           "to finish, or give this run another output") from None
        info = {"pid": os.getpid(), "experiment": str(self.experiment),
                "started": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info, ensure_ascii=False).encode("utf-8"))
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)       # closing the descriptor releases the lock
            self.fd = None

    def remove_created(self) -> None:
        """Remove the lock file and the folders this run made, innermost first, each only if
        nothing else is in it: a failed run takes away only what it made itself."""
        if self.made_file:
            try:
                self.path.unlink()
            except OSError:
                pass
            self.made_file = False
        for folder in reversed(self.created):
            try:
                folder.rmdir()
            except OSError:
                break
        self.created = []

    def _make_folders(self) -> None:
        missing = []
        here = self.output
        while not here.exists() and here != here.parent:
            missing.append(here)
            here = here.parent
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except FileExistsError:
                continue                 # made meanwhile by someone else: not ours
            except OSError as exc:
                self.remove_created()
                raise RunError(f"cannot create the output {self.output}: "
                               f"{exc.strerror or exc}") from None
            self.created.append(folder)


def _read(fd: int) -> str:
    """Who holds the lock, as its lock file says."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return (f"process {info['pid']} running {info['experiment']} since {info['started']}")
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (its lock file does not say which)"
