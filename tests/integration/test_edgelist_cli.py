"""A bad edge-list file through the command line: exit 2, one line on stderr, and no run directory.

The preflight reads the file before Hydra starts, so nothing is written: the command runs in an empty
working directory, where Hydra would create outputs/ for a run (or a sweep).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER = "source,target,source_group,target_group,source_profession,target_profession"


def _nul(d: Path) -> str:
    (d / "bad.csv").write_bytes(f"{HEADER}\n1\x00,2,a,a,social_work,social_work\n".encode())
    return "bad.csv"


def _latin1(d: Path) -> str:
    (d / "bad.csv").write_bytes(
        f"{HEADER}\n1,2,a,a,social_work,social_work\ncafé,2,a,a,social_work,x\n".encode("latin-1")
    )
    return "bad.csv"


def _directory(d: Path) -> str:
    (d / "net.csv").mkdir()
    return "net.csv"


@pytest.mark.parametrize(
    ("make", "extra", "expected"),
    [
        (_nul, [], "error: invalid input file bad.csv, line 2: NUL byte at column 2"),
        (_latin1, ["-m", "seed=0,1"], "error: invalid input file bad.csv, line 3: byte 0xe9 at column 4 is not UTF-8"),
        (_directory, [], "error: invalid input file net.csv: not a regular file but a directory"),
        (lambda d: "/dev/zero", [], "error: invalid input file /dev/zero: not a regular file but a character device"),
    ],
    ids=["nul", "latin-1-sweep", "directory", "dev-zero"],
)
def test_a_bad_edge_list_stops_before_any_output(tmp_path, make, extra, expected):
    path = make(tmp_path)
    if not os.path.exists(tmp_path / path):
        pytest.skip(f"no {path}")
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *extra, "network=edgelist", f"network.path={path}", "steps=2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "HYDRA_FULL_ERROR": "0", "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith(expected), proc.stderr
    assert not (tmp_path / "outputs").exists()
