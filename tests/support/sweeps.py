"""Sweeps in tests: an edge-list file for their runs, and the check of a sweep that reports its failed runs."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pyarrow.parquet as pq

from sim.run.completion import FAILED, read_marker

HEADER = "source,target,source_group,target_group,source_profession,target_profession"


def edge_list(path: Path, n: int) -> Path:
    """A valid edge list in the original CSV format: a ring of `n` agents, each tied to its next two, 2 groups."""
    rows = [HEADER]
    for i in range(n):
        for d in (1, 2):
            j = (i + d) % n
            prof = ("social_work", "health_care")
            rows.append(f"a{i},a{j},g{i % 2},g{j % 2},{prof[i % 2]},{prof[j % 2]}")
    path.write_text("\n".join(rows) + "\n")
    return path


def run_dirs(sdir: Path) -> dict[str, Path]:
    return {p.name: p for p in sdir.iterdir() if p.is_dir() and not p.name.startswith(".")}


def check_failed_runs_reported(
    proc: subprocess.CompletedProcess, sdir: Path, failed: dict[str, str | re.Pattern[str]]
) -> None:
    """The sweep `proc` in `sdir` reported the runs of `failed` and completed the others.

    `failed` maps an override naming each failed run (`seed=1`) to its one-line error: the text, or a
    pattern the whole line matches. Checked (docs/sweeps.md, sim.studies.callbacks): the sweep exits 1 at
    the end; stderr holds no traceback and ends with the report: `error: the sweep in SDIR did not
    complete:`, then one line per failed run, its overrides (those of its `_failed.json`) and its error;
    each other run is complete (its marker verifies its outputs) and the collected tables hold those
    runs, and only those.
    """
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    runs = run_dirs(sdir)
    records = {name: json.loads((d / FAILED).read_text()) for name, d in runs.items() if (d / FAILED).exists()}
    assert len(records) == len(failed), records
    expected = []
    for override, message in failed.items():
        (name,) = [name for name, record in records.items() if override in record["overrides"]]
        error = records[name]["error"]
        if isinstance(message, str):
            assert error == message, (override, error)
        else:
            assert message.fullmatch(error), (override, error)
        assert read_marker(runs[name]) is None, name
        expected.append(f"  {' '.join(records[name]['overrides'])}: {error}")
    complete = sorted(set(runs) - set(records))
    assert complete, runs
    for name in complete:
        assert read_marker(runs[name]) is not None, name
    for table in ("summary.parquet", "metrics.parquet"):
        assert sorted(set(pq.read_table(sdir / table, columns=["run_id"]).column(0).to_pylist())) == complete, table
    lines = proc.stderr.rstrip().splitlines()  # before the report, a launcher's own lines (Ray's connection)
    head = f"error: the sweep in {sdir} did not complete:"
    assert head in lines, proc.stderr[-3000:]
    assert sorted(lines[lines.index(head) + 1 :]) == sorted(expected), proc.stderr[-3000:]
