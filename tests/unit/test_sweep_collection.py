"""Where a sweep is collected (sim.studies.callbacks): in a worker of the local pool, or in the sweep's process."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from sim.studies import callbacks
from sim.studies.callbacks import SweepCallback


class Pool:
    """Stands for the sweep's worker pool: runs what it is given here, and remembers it."""

    def __init__(self, broken: bool = False) -> None:
        self.calls: list[Any] = []
        self.broken = broken

    def submit(self, fn: Any, *args: Any) -> Future:
        self.calls.append(fn)
        if self.broken:
            raise RuntimeError("a worker died")
        done: Future = Future()
        done.set_result(fn(*args))
        return done


@pytest.mark.parametrize(
    ("launcher", "here"),
    [
        ({"_target_": "hydra._internal.core_plugins.basic_launcher.BasicLauncher"}, True),
        ({"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": 1}, True),
        ({"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": 2}, False),
        ({"_target_": "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLocalLauncher"}, False),
    ],
)
def test_jobs_run_here_only_with_the_basic_launcher_or_one_joblib_worker(launcher: dict, here: bool) -> None:
    """Where the jobs run in the sweep's process no thread prepares the collection (imports side by side)."""
    assert callbacks._jobs_run_here(OmegaConf.create({"hydra": {"launcher": launcher}})) is here


def test_a_pools_worker_collects_and_its_log_lines_are_said_here(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool's worker collects; what the collection logs there comes back to the sweep's log."""
    import sim.studies.collect as collect

    def fake(sweep_dir: Path, **kwargs: Any) -> dict[str, Any]:
        logging.getLogger("sim.studies").warning("older run dirs not collected")
        return {"runs": 2, "figure": None}

    monkeypatch.setattr(collect, "collect", fake)
    pool = Pool()
    with caplog.at_level(logging.INFO, logger="sim.studies"):
        problems = SweepCallback()._collect(tmp_path, 2, pool)
    assert problems == [] and pool.calls == [callbacks._collect_here]
    said = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert (logging.WARNING, "older run dirs not collected") in said
    assert any("sweep done: 2 runs complete" in m for _, m in said)


def test_a_broken_pool_leaves_the_collection_to_the_sweeps_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.studies.collect as collect

    monkeypatch.setattr(collect, "collect", lambda sweep_dir, **kw: {"runs": 1, "figure": None})
    pool = Pool(broken=True)
    assert SweepCallback()._collect(tmp_path, 1, pool) == [] and pool.calls == [callbacks._collect_here]


def test_a_collection_error_from_the_worker_is_reported_line_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.studies.collect as collect

    def fails(sweep_dir: Path, **kwargs: Any) -> dict[str, Any]:
        raise collect.CollectError("could not collect:\n  run-1: altered")

    monkeypatch.setattr(collect, "collect", fails)
    assert SweepCallback()._collect(tmp_path, 1, Pool()) == ["could not collect:", "  run-1: altered"]
