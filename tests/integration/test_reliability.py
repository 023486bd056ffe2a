"""Nothing lost, nothing stale, nothing half-written (docs/guarantees.md).

What a completion marker fingerprints and what resume and collection do when it no longer matches;
older outputs set aside; a failed run of a sweep reported while the others complete; one sweep per
directory; a full disk.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sim.config.params import Config
from sim.run import completion
from sim.run.completion import FAILED, MARKER, SUPERSEDED, completed, read_marker, stale_reason
from tests.support.cli import cli
from tests.support.sweeps import check_failed_runs_reported, edge_list, run_dirs

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["n_agents=60", "n_groups=2", "steps=4", "output.figure=false"]
# sweeps whose promise does not depend on the launcher run their tiny runs in the sweep's own process:
# joblib's two worker processes would each spend longer importing the model than the runs take. The
# failed run below keeps the default launcher (its error comes back from a worker process).
IN_PROCESS = "hydra/launcher=basic"


def small_cfg(seed: int = 3) -> Config:
    cfg = Config(n_agents=40, n_groups=2, steps=3, seed=seed)
    cfg.output.progress = "off"
    cfg.output.figure = False
    return cfg


# ---- the marker ------------------------------------------------------------------------------


def test_marker_fingerprints_outputs_by_content_not_size(tmp_path):
    from sim.run.runner import run

    cfg = small_cfg()
    run(cfg, tmp_path)
    marker = json.loads((tmp_path / MARKER).read_text())
    assert all(len(e["sha256"]) == 64 and e["size"] > 0 for e in marker["files"].values())
    assert marker["code_sha256"] == completion.code_digest() and marker["inputs"] == {}
    assert completed(tmp_path, cfg) is not None
    path = tmp_path / "metrics.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)  # same size, other content
    path.write_bytes(bytes(data))
    assert completed(tmp_path, cfg) is None and read_marker(tmp_path) is None
    assert "metrics.parquet: content differs" in str(stale_reason(tmp_path, cfg))


def test_marker_fingerprints_input_file_content_and_code(tmp_path, monkeypatch):
    from sim.run.runner import run

    net = edge_list(tmp_path / "net.csv", 30)
    cfg = small_cfg()
    cfg.n_agents, cfg.n_groups = Config().n_agents, Config().n_groups  # an edge list's sizes are the file's
    cfg.network.kind, cfg.network.path = "edgelist", str(net)
    out = tmp_path / "run"
    run(cfg, out)
    assert completed(out, cfg) is not None
    assert json.loads((out / MARKER).read_text())["inputs"] == {str(net): completion.file_sha256(net)}
    edge_list(net, 31)  # same path, other content
    assert stale_reason(out, cfg) == "an input file changed"
    edge_list(net, 30)
    assert completed(out, cfg) is not None
    monkeypatch.setattr(completion, "code_digest", lambda: "0" * 64)
    assert stale_reason(out, cfg) == "the code changed"


def test_a_marker_of_an_older_version_is_not_trusted(tmp_path):
    from sim.run.runner import run

    cfg = small_cfg()
    run(cfg, tmp_path)
    marker = json.loads((tmp_path / MARKER).read_text())
    marker["files"] = {name: e["size"] for name, e in marker["files"].items()}  # sizes only
    (tmp_path / MARKER).write_text(json.dumps(marker))
    assert completed(tmp_path, cfg) is None
    assert "no content hash" in str(stale_reason(tmp_path, cfg))


def test_a_new_run_sets_an_older_complete_run_aside_and_never_mixes_files(tmp_path):
    from sim.run.runner import run

    old = small_cfg(seed=1)
    old.output.figure = True
    run(old, tmp_path)
    old_summary = (tmp_path / "summary.json").read_bytes()
    new = small_cfg(seed=2)  # no figure: an old figure.png must not stay beside the new run
    (tmp_path / ".agents.parquet.999.tmp").write_bytes(b"left by a killed run")
    run(new, tmp_path)
    assert completed(tmp_path, new) is not None
    assert not (tmp_path / "figure.png").exists() and not list(tmp_path.glob(".*.tmp"))
    (aside,) = (tmp_path / SUPERSEDED).iterdir()
    assert (aside / "summary.json").read_bytes() == old_summary and (aside / "figure.png").exists()
    assert completed(aside, old) is not None  # the older run, intact and still verifiable


def test_partial_outputs_of_a_killed_run_are_removed_when_a_run_starts(tmp_path):
    from sim.run.runner import run

    (tmp_path / "metrics.parquet").write_bytes(b"PAR1 partial")
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / FAILED).write_text("{}")
    cfg = small_cfg()
    run(cfg, tmp_path)
    assert completed(tmp_path, cfg) is not None
    assert not (tmp_path / SUPERSEDED).exists() and not (tmp_path / FAILED).exists()


def test_a_run_that_fails_leaves_no_output_under_a_final_name(tmp_path, monkeypatch):
    from sim.run import runner

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "edges.parquet"))

    monkeypatch.setattr(runner, "write_tables", full)  # metrics, agents and events are already in place
    with pytest.raises(OSError):
        runner.run(small_cfg(), tmp_path)
    assert not [p.name for p in tmp_path.iterdir()]


def test_the_line_for_a_full_disk_names_it(tmp_path):
    from sim.cli import error_line

    line = error_line(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/x/metrics.parquet"))
    assert line is not None and line.startswith("disk full writing /x/metrics.parquet")
    assert error_line(OSError(errno.EACCES, "denied")) is None  # not an expected error: a traceback


# ---- sweeps ----------------------------------------------------------------------------------


def test_a_resumed_sweep_redoes_runs_whose_input_file_changed(tmp_path):
    net = edge_list(tmp_path / "net.csv", 40)
    args = ["-m", "network=edgelist", f"network.path={net}", "steps=4", "seed=0,1", "output.figure=false", IN_PROCESS]
    args.append(f"hydra.sweep.dir={tmp_path / 'sweep'}")
    first = cli(tmp_path, *args)
    assert first.returncode == 0, first.stderr[-2000:]
    edge_list(net, 57)  # the same path, another network
    again = cli(tmp_path, *args)
    assert again.returncode == 0, again.stderr[-2000:]
    for d in run_dirs(tmp_path / "sweep").values():
        assert json.loads((d / "summary.json").read_text())["n_agents"] == 57
        assert "run redone" in (d / "sim.log").read_text() and (d / SUPERSEDED).is_dir()
    summary = pq.read_table(tmp_path / "sweep" / "summary.parquet").to_pandas()
    assert list(summary["n_agents"]) == [57, 57]


def test_a_failed_run_is_reported_by_its_overrides_while_the_others_complete(tmp_path):
    sdir = tmp_path / "sweep"
    args = ["-m", *SMALL, "seed=0,1,2", f"hydra.sweep.dir={sdir}"]
    assert cli(tmp_path, *args).returncode == 0
    runs = run_dirs(sdir)
    (bad,) = [d for d in runs.values() if "seed-1" in d.name]
    (bad / MARKER).unlink()  # make it a run to redo, and one that cannot be written
    (bad / "metrics.parquet").unlink()
    (bad / "metrics.parquet").mkdir()
    (sdir / "summary.parquet").unlink()
    proc = cli(tmp_path, *args)
    assert len(proc.stderr.strip().splitlines()) == 2, proc.stderr  # the report alone
    # not an input error but a bug's (sim.cli.error_line): its type and first line, its traceback in sim.log
    check_failed_runs_reported(
        proc, sdir, {"seed=1": re.compile(r"IsADirectoryError: \[Errno 21\] .*metrics\.parquet.*")}
    )
    assert pq.read_table(sdir / "summary.parquet").column("seed").to_pylist() == [0, 2]  # the others collected
    (bad / "metrics.parquet").rmdir()
    fixed = cli(tmp_path, *args)  # the next try redoes it and clears its failure
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    assert not (bad / FAILED).exists() and read_marker(bad) is not None


def test_a_collection_that_cannot_read_a_run_fails_and_leaves_no_stale_table(tmp_path):
    sdir = tmp_path / "sweep"
    args = ["-m", *SMALL, "seed=0,1", f"hydra.sweep.dir={sdir}", IN_PROCESS]
    assert cli(tmp_path, *args).returncode == 0
    (one, _) = sorted(run_dirs(sdir).values())
    path = one / "metrics.parquet"
    data = bytearray(path.read_bytes())
    data[-12:-8] = bytes(4)  # a zeroed footer length: same size
    path.write_bytes(bytes(data))
    proc = subprocess.run(
        [sys.executable, "-m", "sim.studies.collect", str(sdir)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1 and "no longer match their completion marker" in proc.stderr
    assert one.name in proc.stderr and "metrics.parquet" in proc.stderr
    assert not (sdir / "summary.parquet").exists() and not (sdir / "metrics.parquet").exists()
    again = cli(tmp_path, *args)  # resume: the altered run is redone, then collected
    assert again.returncode == 0, again.stderr[-2000:]
    assert pq.read_table(sdir / "summary.parquet").num_rows == 2


def test_one_sweep_per_directory_and_a_stale_lock_is_taken_over(tmp_path):
    from sim.studies.callbacks import SweepLock

    sdir = tmp_path / "sweep"
    sdir.mkdir()
    lock = sdir / SweepLock.NAME
    lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))  # a live holder
    args = ["-m", *SMALL, "seed=0,1", f"hydra.sweep.dir={sdir}", IN_PROCESS]
    held = cli(tmp_path, *args)
    assert held.returncode == 1 and held.stderr.count("\n") == 1, held.stderr
    assert f"pid {os.getpid()}" in held.stderr and "another sweep is running" in held.stderr
    assert sorted(p.name for p in sdir.iterdir()) == [SweepLock.NAME]  # nothing launched
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock.write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname()}))  # a killed sweep's
    taken = cli(tmp_path, *args)
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert not lock.exists() and len(run_dirs(sdir)) == 2  # released at the end


def test_two_sweeps_started_together_one_runs_the_other_is_refused(tmp_path):
    sdir = tmp_path / "sweep"
    args = [sys.executable, "-m", "sim", "-m", *SMALL, "seed=0,1", f"hydra.sweep.dir={sdir}", IN_PROCESS]
    procs = [subprocess.Popen(args, cwd=tmp_path, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs if p.stderr]
    codes = sorted(rc for rc, _ in results)
    assert codes == [0, 1], results
    assert any("another sweep is running" in err for _, err in results)
    assert all(read_marker(d) is not None for d in run_dirs(sdir).values())


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None, reason="mounting a small tmpfs needs root")
def test_a_full_disk_is_one_line_and_leaves_nothing_under_a_final_name(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)]).returncode != 0:
        pytest.skip("tmpfs cannot be mounted here")
    try:
        proc = cli(disk, "n_agents=20000", "steps=20", "output.snapshot_every=2", "output.figure=false")
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.splitlines() == [proc.stderr.strip()] and proc.stderr.startswith("error: disk full")
        finals = [p for p in disk.rglob("*") if p.is_file() and not p.name.startswith(".")]
        assert finals == [], finals  # the run directory is removed: nothing of the run is left
        fd = os.open(disk / "fill", os.O_WRONLY | os.O_CREAT)  # a disk full before Hydra writes .hydra/
        try:
            while os.write(fd, bytes(1 << 16)):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        early = cli(disk, "n_agents=50", "steps=2")
        assert early.returncode == 1 and early.stderr.startswith("error: disk full"), early.stderr
        assert len(early.stderr.strip().splitlines()) == 1
    finally:
        subprocess.run(["umount", str(disk)])
