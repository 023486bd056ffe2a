"""A sweep's joblib workers started at the command's very start, while the parent checks and composes it.

A local sweep (`python -m sim -m ...`, Hydra's joblib launcher, the default) runs each job in one of
joblib's worker processes. joblib starts them when Hydra launches the first batch, and each then
imports Hydra, numba, Mesa, pandas, matplotlib and the model before its first run: about 2.4 s on a
2-core machine, after the parent has spent 1.2-1.7 s importing, checking every run (the preflight) and
composing the sweep. Nothing needs the workers to wait for the parent: `start` (called by
`python -m sim` before the preflight) starts joblib's reusable process pool at once, with exactly the
arguments Hydra's launcher will give it, and has each worker import what a run needs. When Hydra
launches, joblib finds that pool (same arguments: it reuses it) with its workers ready or nearly so.
The workers are forks of one fork server that `start` also starts at once and that imports what a run
needs (`_fork_server`, `sim.studies.forkready`): the imports happen once, not once per worker, each
beside the others and the parent.

Only where it will be used: a multirun with the joblib launcher (no other `hydra/launcher`, no other
config directory or name, no `hydra.launcher.*` override but `n_jobs`) and more than one worker. The
pool's arguments come from the launcher's own config file (`conf/hydra/launcher/joblib.yaml`) as
Hydra's launcher turns them into joblib's (`process_joblib_cfg`); if they still differed from what
Hydra passes, joblib would replace the pool with a new one: a second start-up, never a wrong result.
The workers run the very jobs they would have run: outputs do not depend on it. `stop` ends the pool at
once when the preflight refuses the command line (bad input: nothing is launched); after a sweep, the
collection's callback asks the workers to exit (`sim.studies.callbacks`), as without this module.
`SIM_PRESTART_WORKERS=off` turns it off.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

from sim.run.beside import NO_TASK_FLAGS, turned_off

ENV = "SIM_PRESTART_WORKERS"
#: the modules the fork server imports (comma-separated, in its environment: sim.studies.forkready)
IMPORTS = "SIM_FORKSERVER_IMPORTS"
#: the pool's `n_jobs`, from which the fork server sets its workers' thread limits (`worker_env`)
JOBS = "SIM_FORKSERVER_JOBS"
#: the options that choose another config (which may set another launcher)
_OTHER_CONFIG = ("--config-dir", "-cd", "--config-name", "-cn", "--config-path", "-cp", "--experimental-rerun")

#: what the fork server imports before forking the workers: a run and Hydra's job code (then the task's module)
_PRELOAD = ("sim.run.runner", "sim.run.figure", "hydra_plugins.hydra_joblib_launcher._core")

_thread: threading.Thread | None = None
_forked = False  # this process started the fork server the pool's workers are forked from
_server_jobs: int | None = None  # the n_jobs the server set its workers' thread limits for
_stopped = False  # `stop` was called: a pool not yet created is not created
_pids: list[int] = []  # the pool's worker processes once they have imported (read by the tests)


def enabled() -> bool:
    """False when `SIM_PRESTART_WORKERS` turns it off (off, 0, false or no)."""
    return not turned_off(ENV)


def workers(argv: list[str], launcher: dict[str, Any] | None = None) -> int | None:
    """The `n_jobs` Hydra's joblib launcher will be given for this command line, or None if it runs no pool.

    None for a single run, a Hydra information flag, another launcher or config, a `hydra.launcher.*`
    override other than `n_jobs`, or one worker (joblib then runs the jobs in the parent itself).
    `launcher`: the launcher's arguments (`_launcher_cfg`), if already read.
    """
    if not _may_use_pool(argv):
        return None
    n = _requested_jobs(argv, (launcher or _launcher_cfg())["n_jobs"])
    if n is None:
        return None
    return n if effective_jobs(n) > 1 else None


def effective_jobs(n_jobs: int, cores: int | None = None) -> int:
    """How many workers joblib runs for `n_jobs` (negative: all `cores` but -n_jobs - 1; joblib's count by default)."""
    if n_jobs > 0:
        return n_jobs
    if cores is None:
        from joblib import cpu_count

        cores = cpu_count()
    return cores + 1 + n_jobs


def _may_use_pool(argv: list[str]) -> bool:
    """A sweep (-m) of this config, not a Hydra information flag: it may run on the joblib launcher's pool."""
    if not ("-m" in argv or "--multirun" in argv) or any(a in NO_TASK_FLAGS for a in argv):
        return False
    return not names_other_config(argv)


def names_other_config(argv: list[str]) -> bool:
    """Whether the command line chooses another config (`_OTHER_CONFIG`: -cd DIR or --config-dir=DIR, ...)."""
    return any(a.split("=", 1)[0] in _OTHER_CONFIG for a in argv)


def _requested_jobs(argv: list[str], n_jobs: Any) -> int | None:
    """`n_jobs` as the command line leaves it (the config's `n_jobs` unless overridden), None for no pool.

    None where the command line names another launcher or overrides another `hydra.launcher` key.
    """
    for arg in argv:
        key, _, value = arg.lstrip("+~").partition("=")
        if key == "hydra/launcher" and (value != "joblib" or arg.startswith("~")):
            return None
        if key == "hydra.launcher.n_jobs":
            n_jobs = value
        elif key.startswith("hydra.launcher"):
            return None
    try:
        return int(n_jobs)
    except (TypeError, ValueError):
        return None


def start_server(argv: list[str], modules: tuple[str, ...] = ()) -> None:
    """Start the fork server at once if this command line may run a pool: before the command line's imports.

    The workers are forks of the server, so a sweep's first runs start when the server has imported
    what a run needs (about 1.7 s on a 2-core machine); started here, before the command line imports
    Hydra and composes anything (`python -m sim` calls this first), it starts about 0.3 s sooner than
    from `start`. It reads `n_jobs` from the launcher's config file as plain YAML (no Hydra), and leaves
    the exact decision to `start`, which ends the server if the sweep will run no pool after all.
    """
    if _forked or not enabled() or not _may_use_pool(argv):
        return
    try:
        import yaml

        from sim.config import CONF_DIR

        declared = yaml.safe_load((CONF_DIR / "hydra" / "launcher" / "joblib.yaml").read_text()) or {}
        n = _requested_jobs(argv, declared.get("n_jobs"))
        if n is None or n == 0 or effective_jobs(n, os.cpu_count() or 1) <= 1:  # no joblib import here
            return
        _fork_server(n, modules)
    except Exception:  # `start` starts it, or the pool starts its workers as joblib does by default
        return


def _launcher_cfg() -> dict[str, Any]:
    """joblib.Parallel's arguments as Hydra's joblib launcher builds them from conf/hydra/launcher/joblib.yaml."""
    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg  # type: ignore[import-untyped]
    from omegaconf import OmegaConf

    from sim.config.preflight import CONF_DIR

    cfg = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "hydra" / "launcher" / "joblib.yaml"))
    assert isinstance(cfg, dict)
    cfg.pop("_target_", None)
    cfg["backend"] = "loky"  # the launcher's own choice, whatever the config says
    process_joblib_cfg(cfg)
    return {str(k): v for k, v in cfg.items()}


def start(argv: list[str], modules: tuple[str, ...] = ()) -> None:
    """Start the pool for this command line's sweep, if it will use one (`workers`); returns at once.

    `modules`: what else each worker imports besides the model's run and Hydra's job code: the module of
    the task function (`sim.cli`, named by the command line that owns it).
    """
    if _thread is not None or not enabled():
        return
    if not _may_use_pool(argv):  # a single run (no server started): the launcher's module takes ~0.15 s to import
        return
    try:
        cfg = _launcher_cfg()
        n = workers(argv, cfg)
    except Exception:  # a broken config file: the preflight says what is wrong
        return
    if n is None:
        _end_server()  # started by `start_server` for a sweep that runs no pool after all
        return
    cfg["n_jobs"] = n
    try:
        if _forked and _server_jobs != n:  # read otherwise by `start_server` (a config file Hydra reads differently)
            _end_server()  # its workers' thread limits would be another count's: joblib starts the workers
            _start_pool(cfg, modules)
            return
        if not _forked:
            _fork_server(n, modules)
        from joblib.externals.loky.backend.context import set_start_method

        set_start_method("forkserver", force=True)  # loky's start method for the pool joblib creates next
    except Exception:  # no fork server: the pool starts its workers as joblib does by default
        pass
    _start_pool(cfg, modules)


def _start_tracker() -> None:
    """Start loky's resource tracker now, on one thread per library and at the lowest priority.

    The pool needs loky's resource tracker (a process that removes the pool's semaphores and temporary
    folders if the sweep dies), which joblib starts when it creates the pool: a fresh interpreter that
    imports joblib and numpy (about 0.18 s of CPU on 2 cores, OpenBLAS's threads included) while the fork
    server imports what a run needs and this process checks the sweep, both on the way to the first runs.
    Started here instead, it gets one thread for each library (joblib's own thread limits, `1`) and
    the lowest priority (nice 19): it yields the cores to both, and its work (bookkeeping, and clean-up at
    the end) does not hurry. joblib then finds it running. Best effort: where it cannot be started here,
    joblib starts it as before.
    """
    try:
        from joblib._parallel_backends import ParallelBackendBase
        from joblib.externals.loky.backend.resource_tracker import _resource_tracker

        # no other thread runs yet: the spawned tracker inherits them
        with _environment(dict.fromkeys(ParallelBackendBase.MAX_NUM_THREADS_VARS, "1")):
            _resource_tracker.ensure_running()
        pid = getattr(_resource_tracker, "_pid", None)
        if pid is not None:
            os.setpriority(os.PRIO_PROCESS, pid, 19)
    except Exception:  # joblib starts it when it creates the pool, as without this
        return


def _start_pool(cfg: dict[str, Any], modules: tuple[str, ...]) -> None:
    """The pool, created in a thread of its own (`_warm`), after its resource tracker (`_start_tracker`)."""
    global _thread
    _start_tracker()
    _thread = threading.Thread(target=_warm, args=(cfg, modules), name="sim-prestart", daemon=True)
    _thread.start()


def _fork_server(n_jobs: int, modules: tuple[str, ...]) -> None:
    """Start the fork server the pool's workers will be forked from, importing what a run needs; at once.

    Each worker would otherwise start a fresh interpreter and import numba, Mesa, pandas, matplotlib and
    the model itself, every worker at the same time and beside the parent. With multiprocessing's fork
    server these imports happen once, in one process started now, and each worker is a fork of it. A
    forked worker also ends without the interpreter's teardown of its modules. The server is a fresh
    interpreter (not a fork of this process, whose threads a fork would break) that imports nothing
    but `_PRELOAD` and `modules`, and starts no thread before the workers are forked from it.

    joblib gives its workers a thread limit per library (cores / workers, for OpenMP, BLAS and numba)
    through their environment, which only its own start method can do; the server sets the same
    variables (joblib's own `_prepare_worker_env`, from `JOBS` in its environment) before its imports,
    and the workers inherit them. Not on a platform without a fork server. The parent imports neither
    joblib nor numpy for it (a sixth of a second, before the server could start).
    """
    global _forked, _server_jobs
    import multiprocessing
    from multiprocessing import forkserver

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    multiprocessing.set_forkserver_preload(["sim.studies.forkready"])  # which imports the rest (its docstring)
    with _environment({IMPORTS: ",".join((*_PRELOAD, *modules)), JOBS: str(n_jobs)}):
        forkserver.ensure_running()  # the server process starts now; its imports run while this one goes on
    _forked, _server_jobs = True, n_jobs


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """`values` set in the environment of this process (and of those it starts meanwhile); restored after."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def worker_env(n_jobs: int) -> dict[str, str]:
    """The thread limits joblib gives each of `n_jobs` workers (negative counts by joblib's rule)."""
    from joblib._parallel_backends import LokyBackend

    return dict(LokyBackend()._prepare_worker_env(n_jobs=max(1, effective_jobs(n_jobs))))


def _end_server() -> None:
    """Kill the fork server this process started (it would finish its imports first, holding its streams)."""
    from multiprocessing import forkserver

    global _forked
    server = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    if _forked and server is not None:
        with contextlib.suppress(OSError):
            os.kill(server, signal.SIGKILL)
    _forked = False


def _warm(cfg: dict[str, Any], modules: tuple[str, ...]) -> None:
    """One import task per worker through joblib.Parallel, as Hydra's launcher will call it."""
    try:
        from joblib import Parallel, delayed
        from joblib.externals.loky import reusable_executor

        if _stopped:
            return
        Parallel(**cfg)(delayed(_ready)(modules) for _ in range(int(cfg["n_jobs"])))
        executor = getattr(reusable_executor, "_executor", None)
        _pids.extend(sorted(getattr(executor, "_processes", {}) or {}))
    except Exception:  # nothing gained, nothing lost: Hydra's launch starts the pool itself
        return


def _ready(modules: tuple[str, ...]) -> int:
    """In a worker: import what a run of the sweep needs (Hydra's job code, the model's run, `modules`)."""
    import importlib

    for name in (*_PRELOAD, *modules):  # already imported where the workers are forks of the fork server
        importlib.import_module(name)
    return os.getpid()


def pool() -> Any:
    """The worker pool of this command's sweep, if `start` started one and it still runs; else None.

    joblib's reusable executor: the one `start` created, or the one Hydra's launch replaced it with.
    Its workers have imported everything a run needs and drawn a run's figure.
    """
    if _thread is None or _stopped:
        return None
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is None or getattr(executor, "_broken", None) or getattr(executor, "_shutdown_thread", False):
        return None
    return executor


def wait(timeout: float | None = None) -> list[int]:
    """Wait for the pool's workers to be ready; their process ids (empty if none was started)."""
    if _thread is not None:
        _thread.join(timeout)
    return list(_pids)


def stop() -> None:
    """End the pool now (the command ends before launching): its workers are killed, not waited for."""
    global _stopped
    _stopped = True
    if _thread is None:
        _end_server()  # started by `start_server` before `start` was reached
        return
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)
    _end_server()
