"""The shipped inputs (policies, populations, experiments, calibration targets) and the JSON
Schemas an editor checks them with, copied into a working folder: `microsim examples DIR`.

Takes: a destination folder. Gives: the five folders below it with the layout they have in the
repository, so `microsim run DIR/experiments/quickstart.yaml` works there. An installed wheel
carries them as package data in `microsim/data/` (setup.py copies them there at build time);
an editable install or a clone reads them from the repository's top level.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from microsim.errors import InputError
from microsim.paths import kind, resolve

SHIPPED = ("policies", "populations", "experiments", "calibration", "schemas")
QUICKSTART = Path("experiments") / "quickstart.yaml"


def shipped_root() -> Path:
    """The folder holding the shipped inputs: the wheel's package data, else the clone."""
    package = Path(__file__).resolve().parent
    for root in (package / "data", package.parent):
        if all((root / name).is_dir() for name in SHIPPED) and (root / QUICKSTART).is_file():
            return root
    raise InputError(package / "data", "the shipped policies, populations and experiments are "
                     "not installed with this copy of microsim (neither in the package's data "
                     "folder nor in a clone of the repository); reinstall it from a wheel built "
                     "with `pip wheel .` or `python -m build`")


def copy_examples(dest: str | Path, force: bool = False) -> list[Path]:
    """Copy the shipped folders into `dest`; the folders written. A non-empty `dest` is refused
    unless `force` (then the shipped files replace theirs; other files stay)."""
    target = resolve(dest, what="examples folder")
    found = kind(target)
    if found not in (None, "folder"):
        raise InputError(target, f"the examples folder is a {found}, not a folder")
    if found == "folder" and any(target.iterdir()) and not force:
        raise InputError(target, "the examples folder is not empty; nothing was copied (choose "
                         "an empty or new folder, or give --force to write the shipped files "
                         "over the ones there)")
    root = shipped_root()
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SHIPPED:
        shutil.copytree(root / name, target / name, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("results", "__pycache__", ".*"))
        written.append(target / name)
    return written
