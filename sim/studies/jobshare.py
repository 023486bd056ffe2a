"""What every job of a local sweep is handed, sent to each worker once instead of once per job.

Hydra's joblib launcher hands every job the same three large objects: Hydra's context (its config loader
and the callbacks), the sweep's config and Hydra's global state (its singletons: the config store, the
job runtime...). joblib pickles them anew for every job (about 9 ms in the sweep's process), and every
worker unpickles them anew before each job (about 7.5 ms of the per-run overhead on 2 cores).

`install()` replaces the `delayed` that Hydra's launcher module calls by one that sends these three as
`Shared` objects: each is pickled at most once in the process that launches (kept by identity while it
is in use), when it is first sent, and travels as its bytes and their digest; a worker unpickles a
digest once and hands the same object to every later job that carries it. That is what the launcher
already does when it runs the jobs itself (one worker: joblib calls every job in the sweep's process
with the very same objects), so a job sees the same state either way; the outputs are the same bytes on
any number of workers (tests/integration/test_sweep.py, test_prestart_sweep.py). The job's own arguments
(its number and overrides) and the task function travel as before.

Each job also carries its config template (`sim.studies.jobconfig.template_for`), composed once in the
sweep's process as the first job that needs it is handed out and sent the same way: a worker's first job
does not compose it again (about 85 ms on 2 cores, at the start of every worker).
"""

from __future__ import annotations

import functools
import hashlib
import pickle
from collections import OrderedDict
from typing import Any

_MARK = "_sim_shares_job_state"
_KEEP = 8  # objects kept per process, on each side (a launch hands out three, and its templates)
_sent: OrderedDict[int, tuple[Any, Shared]] = OrderedDict()  # id -> (the object, its Shared)
_received: OrderedDict[str, Any] = OrderedDict()  # digest -> the object unpickled in this worker


class Shared:
    """One object as a job's argument: pickled the first time it is sent, unpickled once per worker.

    Where the jobs run in the sweep's own process (one worker), it is never pickled at all.
    """

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    @functools.cached_property
    def _sent(self) -> tuple[str, bytes]:
        from joblib.externals import cloudpickle  # as loky pickles a job's arguments

        blob = cloudpickle.dumps(self.obj, protocol=pickle.HIGHEST_PROTOCOL)
        return hashlib.sha256(blob).hexdigest(), blob

    def __reduce__(self) -> tuple[Any, tuple[str, bytes]]:
        return _received_object, self._sent


def _received_object(digest: str, blob: bytes) -> Any:
    """In a worker: the object these bytes pickle, unpickled the first time its digest arrives."""
    if digest in _received:
        _received.move_to_end(digest)
        return _received[digest]
    obj = pickle.loads(blob)
    _received[digest] = obj
    while len(_received) > _KEEP:
        _received.popitem(last=False)
    return obj


def share(obj: Any) -> Shared:
    """The `Shared` of this object, the same for every job (so it is pickled at most once)."""
    kept = _sent.get(id(obj))
    if kept is not None and kept[0] is obj:
        _sent.move_to_end(id(obj))
        return kept[1]
    shared = Shared(obj)
    _sent[id(obj)] = (obj, shared)  # the object is kept alive with its entry: its id is not reused meanwhile
    while len(_sent) > _KEEP:
        _sent.popitem(last=False)
    return shared


def call_with(function: Any, *args: Any) -> Any:
    """Call `function` with each `Shared` argument replaced by its object (in the sweep's own process)."""
    return function(*(a.obj if isinstance(a, Shared) else a for a in args))


def call_seeded(template: tuple[tuple, Any] | None, function: Any, *args: Any) -> Any:
    """`call_with`, after keeping the job's config template the sweep's process composed (`sim.studies.jobconfig`)."""
    from sim.studies.jobconfig import seed

    if template is not None:
        key, kept = template
        seed((key, kept.obj if isinstance(kept, Shared) else kept))
    return call_with(function, *args)


def _template_of(hydra_context: Any, config: Any, overrides: Any) -> tuple[tuple, Shared] | None:
    """(key, the job's config template `share`d), composed here the first time; None: the worker composes it.

    jobconfig keeps one bytes object per template, so every job that needs it sends the same `Shared`.
    """
    from sim.studies.jobconfig import template_for

    loader = getattr(hydra_context, "config_loader", None)
    kept = None if loader is None else template_for(loader, config, list(overrides))
    return None if kept is None else (kept[0], share(kept[1]))


def _shared_args(function: Any) -> Any:
    """`joblib.delayed(function)`, sending the three large arguments of Hydra's `execute_job` as `Shared`."""
    from joblib import delayed

    def call(idx: int, overrides: Any, hydra_context: Any, config: Any, task_function: Any, state: Any) -> Any:
        template = _template_of(hydra_context, config, overrides)
        return delayed(call_seeded)(
            template, function, idx, overrides, share(hydra_context), share(config), task_function, share(state)
        )

    return call


def _first_template_composed(launch: Any) -> Any:
    """Hydra's joblib `launch`, composing the first job's template before joblib hands out any job.

    joblib takes the first jobs from Hydra only once the pool's workers are up; composed then, the
    template would hold them back. Composed here, it is ready while they start.
    """

    def composed_first(launcher: Any, job_overrides: Any, initial_job_idx: int) -> Any:
        context, config = getattr(launcher, "hydra_context", None), getattr(launcher, "config", None)
        if len(job_overrides) and context is not None and config is not None:
            _template_of(context, config, job_overrides[0])
        return launch(launcher=launcher, job_overrides=job_overrides, initial_job_idx=initial_job_idx)

    setattr(composed_first, _MARK, True)
    return composed_first


def install() -> None:
    """Send the sweep's shared job arguments once per worker from this process on (idempotent)."""
    from hydra_plugins.hydra_joblib_launcher import _core  # type: ignore[import-untyped]

    if getattr(_core.delayed, _MARK, False):
        return
    setattr(_shared_args, _MARK, True)
    _core.delayed = _shared_args
    _core.launch = _first_template_composed(_core.launch)
