"""The figure process (sim.run.drawer): when it starts, the figure it draws, and what it leaves when it cannot."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.run import drawer
from sim.run.figure import draw_figure


def _records(steps: int = 6) -> drawer.Records:
    """Records shaped like a run's (every series the figure draws), with varied values."""
    from sim.metrics.population import METRICS

    rng = np.random.default_rng(3)
    t = list(range(0, steps * 10, 10))
    series = {m: rng.random(len(t)).tolist() for m in METRICS}
    by_profession = {p: {m: rng.random(len(t)).tolist() for m in METRICS} for p in ("social_work", "health_care")}
    histograms = [rng.integers(0, 50, 20) for _ in t]
    return drawer.Records(t, series, histograms, by_profession)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _real_drawer() -> drawer.Drawer:
    proc = subprocess.Popen([sys.executable, "-m", "sim.run.drawer"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    return drawer.Drawer(proc)


def test_the_drawer_draws_the_figure_the_run_would_draw(tmp_path: Path) -> None:
    rec = _records()
    draw_figure(rec, tmp_path / "here.png", "a title")
    d = _real_drawer()
    assert d.draw(rec, tmp_path, "a title")
    assert d.wait(tmp_path / "figure.png")
    assert _sha(tmp_path / "figure.png") == _sha(tmp_path / "here.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.png", "here.png"]  # no temporary file left
    assert d.proc.returncode == 0


def test_a_drawer_that_cannot_draw_leaves_nothing_and_says_so(tmp_path: Path) -> None:
    rec = _records()
    del rec.series["esteban_ray"]  # drawing fails in the drawer
    d = _real_drawer()
    assert d.draw(rec, tmp_path, "t")
    assert not d.wait(tmp_path / "figure.png")
    assert list(tmp_path.iterdir()) == []


def test_a_drawer_that_died_leaves_the_figure_to_the_run(tmp_path: Path) -> None:
    d = drawer.Drawer(subprocess.Popen([sys.executable, "-c", "pass"], stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    d.proc.wait()
    sent = d.draw(_records(), tmp_path, "t")  # the pipe may still take the records, or be broken already
    assert not (sent and d.wait(tmp_path / "figure.png"))
    assert list(tmp_path.iterdir()) == []


def test_closing_a_drawer_mid_figure_leaves_no_file(tmp_path: Path) -> None:
    d = _real_drawer()
    assert d.draw(_records(200), tmp_path, "t")
    d.close()
    assert d.proc.returncode is not None
    assert list(tmp_path.iterdir()) == []
    assert not d.wait(tmp_path / "figure.png")  # nothing to wait for once closed


def test_a_drawer_given_nothing_exits_cleanly() -> None:
    d = _real_drawer()
    out, _ = d.proc.communicate(b"", timeout=120)
    assert d.proc.returncode == 0 and out == b""


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Drawers started (two CPUs, no setting); nothing really started."""
    procs: list[Any] = []

    def popen(*args: Any, **kwargs: Any) -> Any:
        procs.append(args)
        return object()

    monkeypatch.setattr(drawer.subprocess, "Popen", popen)
    monkeypatch.setattr("sim.core.threads.usable_cpus", lambda: 2)
    monkeypatch.delenv(drawer.ENV, raising=False)
    monkeypatch.setattr(drawer, "_spawned", None)
    return procs


def test_a_single_run_gets_a_drawer_once(spawned: list[Any]) -> None:
    drawer.spawn(["n_agents=300"])
    drawer.spawn(["n_agents=300"])
    assert len(spawned) == 1 and spawned[0][0][1:] == ["-m", "sim.run.drawer"]
    assert drawer.take() is not None
    assert drawer.take() is None


@pytest.mark.parametrize(
    ("argv", "setting", "cpus"),
    [
        (["-m", "seed=0,1"], None, 2),  # a sweep: its workers have matplotlib and busy cores
        (["--cfg", "job"], None, 2),  # no run
        ([], "off", 2),
        ([], None, 1),  # one CPU: the drawer would only take turns with the run
    ],
)
def test_no_drawer_where_it_cannot_help(
    spawned: list[Any], monkeypatch: pytest.MonkeyPatch, argv: list[str], setting: str | None, cpus: int
) -> None:
    if setting is not None:
        monkeypatch.setenv(drawer.ENV, setting)
    monkeypatch.setattr("sim.core.threads.usable_cpus", lambda: cpus)
    drawer.spawn(argv)
    assert spawned == [] and drawer.take() is None


def test_a_run_failing_after_sending_its_records_leaves_no_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.config.compose import compose
    from sim.run import runner

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(runner, "write_tables", fail)  # edges.parquet: written after the records are sent
    d = _real_drawer()
    with pytest.raises(OSError, match="disk gone"):
        runner.run(compose(n_agents=60, n_groups=3, steps=3), tmp_path, drawer=d)
    assert d.proc.returncode is not None  # ended by the run
    assert not list(tmp_path.glob("figure.png")) and not list(tmp_path.glob(".*.tmp"))


def test_a_run_with_a_drawer_writes_the_same_figure(tmp_path: Path) -> None:
    from sim.config.compose import compose
    from sim.run import runner

    cfg = compose(n_agents=60, n_groups=3, steps=3)
    runner.run(cfg, tmp_path / "a", drawer=_real_drawer())
    runner.run(cfg, tmp_path / "b")
    assert _sha(tmp_path / "a" / "figure.png") == _sha(tmp_path / "b" / "figure.png")


def test_a_drawer_that_never_answers_is_ended_and_the_figure_left_to_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drawer, "WAIT_S", 0.5)
    hung = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; sys.stdin.buffer.read(); open(sys.argv[1], 'w'); time.sleep(60)",
            str(tmp_path / drawer.DRAWN),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    d = drawer.Drawer(hung)
    assert d.draw(_records(), tmp_path, "t")
    assert not d.wait(tmp_path / "figure.png")
    assert hung.poll() is not None  # killed
    assert list(tmp_path.iterdir()) == []  # what it had started is removed
