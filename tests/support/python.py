"""Python code run in a fresh interpreter, as a user's own session would start."""

from __future__ import annotations

import subprocess
import sys


def last_line(code: str) -> str:
    """The last line `code` prints, run by this Python in a new process (which must succeed)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]
