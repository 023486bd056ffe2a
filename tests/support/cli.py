"""`python -m sim` run as a user runs it: in a directory, with an environment, its output captured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
