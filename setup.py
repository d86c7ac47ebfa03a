"""Build hook: the wheel carries the shipped inputs as package data.

The repository keeps `policies/`, `populations/`, `experiments/` and `calibration/` at its
top level (their YAML files refer to each other by relative paths such as
`../policies/china/national_2023.yaml`), and `schemas/`, the JSON Schemas of those files for
editors (microsim/schemas.py). A wheel copies those five folders, with the same
relative layout, into `microsim/data/`, where `microsim examples DIR` finds them. An editable
install reads them from the clone instead (microsim/examples.py).
"""

from pathlib import Path
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("policies", "populations", "experiments", "calibration", "schemas")
HERE = Path(__file__).resolve().parent


class BuildWithShippedInputs(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "microsim" / "data"
        for name in SHIPPED:
            source = HERE / name
            if not source.is_dir():
                raise SystemExit(f"cannot build the wheel: the folder {source} is missing")
            if (target / name).exists():
                shutil.rmtree(target / name)
            shutil.copytree(source, target / name,
                            ignore=shutil.ignore_patterns("results", "__pycache__", ".*"))


setup(cmdclass={"build_py": BuildWithShippedInputs})
