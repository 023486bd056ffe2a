"""The sweep's shared job arguments, pickled once and unpickled once per worker (sim.studies.jobshare)."""

from __future__ import annotations

import os
import pickle
from collections import OrderedDict
from types import SimpleNamespace

import pytest
from joblib import Parallel, delayed
from omegaconf import OmegaConf

from sim.studies import jobshare


def _seen_in_worker(config: object, k: int) -> tuple[int, int, int, str]:
    """Run in a worker: the process, the argument's identity, how many objects it has received, a value."""
    return os.getpid(), id(config), len(jobshare._received), str(OmegaConf.select(config, "a.b")) + f"/{k}"


def test_an_object_is_pickled_once_by_the_sender() -> None:
    config = OmegaConf.create({"a": {"b": 1}})
    first = jobshare.share(config)
    assert jobshare.share(config) is first  # the same bytes for every job
    assert jobshare.share(OmegaConf.create({"a": {"b": 1}})) is not first  # another object: its own
    assert "_sent" not in first.__dict__  # not pickled until it is sent (never, with one worker)
    digest, blob = first._sent
    assert pickle.loads(blob) == config
    assert first._sent is first._sent  # the bytes are made once


def test_a_receiver_unpickles_a_digest_once_and_hands_out_the_same_object() -> None:
    config = OmegaConf.create({"a": {"b": 2}})
    blob = pickle.dumps(jobshare.share(config))
    got, again = pickle.loads(blob), pickle.loads(blob)
    assert got is again and got == config and got is not config


def test_the_sweeps_own_process_calls_with_the_objects_themselves() -> None:
    config = OmegaConf.create({"a": {"b": 3}})
    assert jobshare.call_with(lambda i, c: (i, c), 7, jobshare.share(config)) == (7, config)
    assert jobshare.call_with(lambda i, c: c, 7, jobshare.share(config)) is config


def test_workers_get_one_object_each_for_all_their_jobs() -> None:
    config = OmegaConf.create({"a": {"b": 4}})
    shared = jobshare.share(config)
    rows = Parallel(n_jobs=2, backend="loky")(delayed(jobshare.call_with)(_seen_in_worker, shared, k) for k in range(6))
    assert [r[3] for r in rows] == [f"4/{k}" for k in range(6)]
    by_worker: dict[int, set[int]] = {}
    for pid, ident, _, _ in rows:
        by_worker.setdefault(pid, set()).add(ident)
    assert all(len(ids) == 1 for ids in by_worker.values())  # unpickled once in each worker


def test_installed_in_hydras_launcher_once() -> None:
    from hydra_plugins.hydra_joblib_launcher import _core  # type: ignore[import-untyped]

    saved = _core.delayed, _core.launch
    try:
        jobshare.install()
        first, launch = _core.delayed, _core.launch
        jobshare.install()
        assert _core.delayed is first and getattr(first, jobshare._MARK)
        assert _core.launch is launch and getattr(launch, jobshare._MARK)
        # what the launcher builds for a job: the three large arguments as Shared, the rest as they are (no
        # config loader in this context: no template, the worker composes the job's config itself)
        function, args, _ = first(print)(3, ["seed=1"], {"context": 1}, {"config": 2}, len, {"state": 3})
        assert function is jobshare.call_seeded and args[0] is None and args[1] is print
        assert args[2:4] == (3, ["seed=1"])
        assert [type(a) for a in args[4:]] == [jobshare.Shared, jobshare.Shared, type(len), jobshare.Shared]
    finally:
        _core.delayed, _core.launch = saved


def test_a_job_carries_its_template_once_composed(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.studies import jobconfig

    composed: list[list[str]] = []

    def template_for(loader: object, config: object, overrides: list[str]) -> tuple[tuple, bytes]:
        composed.append(overrides)
        return ("config", (overrides[0].split("=")[0],), ()), b"template"

    monkeypatch.setattr(jobconfig, "template_for", template_for)
    context = SimpleNamespace(config_loader=object())
    first = jobshare._template_of(context, {}, ["seed=1"])
    again = jobshare._template_of(context, {}, ["seed=2"])
    assert composed == [["seed=1"], ["seed=2"]]
    assert first is not None and again is not None
    assert first[0] == ("config", ("seed",), ()) and isinstance(first[1], jobshare.Shared)
    assert first[1].obj == b"template"
    assert again[1] is first[1]  # the same template: the same Shared, pickled once for all the jobs


def test_a_worker_keeps_the_template_it_is_handed(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.studies import jobconfig

    monkeypatch.setattr(jobconfig, "_templates", OrderedDict())
    key = ("config", ("seed",), ())
    shared = pickle.loads(pickle.dumps((key, jobshare.share(b"sent"))))  # as a worker receives it
    assert jobshare.call_seeded(shared, lambda i, c: (i, c), 7, jobshare.share("x")) == (7, "x")
    assert jobconfig._templates[key] == b"sent"
    jobshare.call_seeded((key, b"another"), lambda: None)  # a template it has is kept as it is
    assert jobconfig._templates[key] == b"sent"
    jobshare.call_seeded(None, lambda: None)  # no template handed: nothing kept
    assert list(jobconfig._templates) == [key]


def test_hydras_launch_starts_after_the_first_template_is_composed(monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    monkeypatch.setattr(
        jobshare, "_template_of", lambda context, config, overrides: order.append(f"template {overrides}")
    )

    def launch(launcher: object, job_overrides: list[list[str]], initial_job_idx: int) -> list[str]:
        order.append("launch")
        return ["done"]

    wrapped = jobshare._first_template_composed(launch)
    launcher = SimpleNamespace(hydra_context=object(), config=object())
    assert wrapped(launcher, [["seed=0"], ["seed=1"]], 0) == ["done"]
    assert order == ["template ['seed=0']", "launch"]  # the first job's only: the others as they are handed out
    order.clear()
    assert wrapped(launcher, [], 0) == ["done"] and order == ["launch"]
    assert wrapped(SimpleNamespace(hydra_context=None, config=None), [["seed=0"]], 0) == ["done"]
    assert order == ["launch", "launch"]
