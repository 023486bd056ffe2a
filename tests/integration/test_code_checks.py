"""The code checks of the pre-commit hooks pass: the import layers, the types of sim, the lint rules.

Each runs the tool installed next to this interpreter (the dev extra, part of the test extra), from the
project root, so that it reads its settings from pyproject.toml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _run(tool: str, *args: str) -> None:
    exe = BIN / tool
    assert exe.exists(), f"{exe} not found: pip install -e '.[dev]'"
    proc = subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        command = " ".join([tool, *args])
        pytest.fail(f"{command} exited with {proc.returncode}:\n{proc.stdout}\n{proc.stderr}", pytrace=False)


def test_import_layers_are_kept():
    _run("lint-imports")


def test_mypy_finds_no_type_error_in_sim():
    _run("mypy", "sim")


def test_ruff_check_passes():
    _run("ruff", "check", "sim", "tests", "benchmarks")
