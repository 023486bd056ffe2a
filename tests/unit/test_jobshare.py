"""The sweep's shared job arguments, pickled once and unpickled once per worker (sim.studies.jobshare)."""

from __future__ import annotations

import os
import pickle

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

    saved = _core.delayed
    try:
        jobshare.install()
        first = _core.delayed
        jobshare.install()
        assert _core.delayed is first and getattr(first, jobshare._MARK)
        # what the launcher builds for a job: the three large arguments as Shared, the rest as they are
        function, args, _ = first(print)(3, ["seed=1"], {"context": 1}, {"config": 2}, len, {"state": 3})
        assert function is jobshare.call_with and args[0] is print and args[1:3] == (3, ["seed=1"])
        assert [type(a) for a in args[3:]] == [jobshare.Shared, jobshare.Shared, type(len), jobshare.Shared]
    finally:
        _core.delayed = saved
