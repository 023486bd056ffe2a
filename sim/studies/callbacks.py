"""Hydra callbacks of a sweep (`conf/hydra/callbacks/sweep.yaml`, on by default).

`SweepCallback`, in the process that starts the sweep:
- on_multirun_start: takes the sweep directory's lock (`SweepLock`: one sweep per directory at a time;
  a second one is refused with the holder's pid and host, a lock left by a killed sweep on this host
  is taken over), writes the command line's overrides into SWEEP_DIR/overrides.yaml
  (`sim.studies.naming`), and draws one progress bar over the runs (`sim.studies.progress`);
- on_job_end (wherever the job runs): drops the copies of the job's config that Hydra keeps in each
  job's result, so the results of a long sweep stay small in the parent (point 8 of docs/sweeps.md);
- on_multirun_end: collects the runs into SWEEP_DIR/metrics.parquet, summary.parquet and the sweep
  figure (`sim.studies.collect`), as `python -m sim.studies.collect SWEEP_DIR` does by hand; then
  reports the runs of this sweep that failed (each job writes `_failed.json` with its one-line error
  instead of stopping the sweep, `sim.cli`) and releases the lock. A sweep on the local worker pool
  (`sim.studies.prestart`) is collected by one of its workers, which has imported and warmed up all
  the collection needs while running its jobs; otherwise by this process, which imports and warms up
  what the collection needs while the runs go on (`_prepare_collection`).

The sweep exits non-zero at the end (after every other run has completed and been collected) when a
run failed or the collection could not read a run; the message names each failed run by its
overrides. Hydra turns an exception raised by a callback into a warning, so these exits are SystemExit.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

if TYPE_CHECKING:
    from sim.studies.progress import SweepProgress

log = logging.getLogger("sim.studies")


def sweep_jobs(config: DictConfig) -> int | None:
    """The number of runs of a basic-sweeper sweep (None if it cannot be told in advance)."""
    import math

    from hydra.core.override_parser.overrides_parser import OverridesParser

    from sim.config.preflight import CONF_DIR, values_of

    target = str(OmegaConf.select(config, "hydra.sweeper._target_", default=""))
    if not target.endswith("BasicSweeper"):
        return None
    params = OmegaConf.select(config, "hydra.sweeper.params") or {}
    args = [f"{k}={v}" for k, v in params.items()]
    args += list(cast(list[str], OmegaConf.to_container(config.hydra.overrides.task, resolve=False)))
    sources = OmegaConf.select(config, "hydra.runtime.config_sources") or []
    dirs = [CONF_DIR] + [Path(str(s.path)) for s in sources if str(s.schema) == "file"]
    try:
        parsed = OverridesParser.create().parse_overrides(args)
        last = {o.get_key_element(): o for o in parsed}  # as the sweeper: the command line's value wins
        return math.prod(len(values_of(o, dirs)) for o in last.values() if o.is_sweep_override())
    except Exception:
        return None


class SweepLock:
    """`SWEEP_DIR/.sweep.lock`: the pid, host and start of the sweep that holds the directory.

    Created with O_EXCL, so of two sweeps started together exactly one gets it. A lock whose holder
    is a process of this host that no longer runs (a killed sweep) is stale and taken over; a lock
    held from another host cannot be checked and is refused with a message saying how to remove it.
    """

    NAME = ".sweep.lock"

    def __init__(self, sweep_dir: Path) -> None:
        self.path = sweep_dir / self.NAME
        self.held = False

    def acquire(self) -> str | None:
        """None when taken; otherwise the one-line reason it is held by another sweep."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(), "argv": sys.argv}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and not self._stale(holder):
                    return (
                        f"another sweep is running in {self.path.parent} (pid {holder.get('pid')} on "
                        f"{holder.get('host')}, lock {self.path}); wait for it or, if it is no longer "
                        "running, remove the lock file"
                    )
                # stale (or unreadable: a sweep killed between creating and writing it): take it over
                stale = self.path.with_name(f"{self.NAME}.stale.{os.getpid()}")
                try:
                    os.replace(self.path, stale)
                    stale.unlink(missing_ok=True)
                except FileNotFoundError:
                    pass
                log.warning("took over the lock of a sweep that no longer runs: %s", holder)
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            return None
        return f"could not take the sweep lock {self.path}"

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def _holder(self) -> dict[str, Any] | None:
        try:
            holder = json.loads(self.path.read_text())
        except (OSError, ValueError):
            # being written right now (young) or left empty by a kill (old)
            try:
                young = time.time() - self.path.stat().st_mtime < 10
            except OSError:
                young = False
            return {"pid": "?", "host": "?"} if young else None
        return holder if isinstance(holder, dict) else None

    @staticmethod
    def _stale(holder: dict[str, Any]) -> bool:
        if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
            return False
        try:
            os.kill(holder["pid"], 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # a live process of another user
            return False
        return False


def failed_runs(sweep_dir: Path, since: float) -> list[str]:
    """'overrides: error' of each run of the sweep that wrote `_failed.json` since `since` (a time)."""
    from sim.run.completion import FAILED

    out = []
    for path in sorted(sweep_dir.glob(f"*/{FAILED}")):
        try:
            if path.stat().st_mtime < since:
                continue
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        out.append(f"{' '.join(record.get('overrides', [])) or path.parent.name}: {record.get('error')}")
    return out


def _write_sweep_overrides(sweep_dir: Path, config: DictConfig) -> None:
    """SWEEP_DIR/overrides.yaml: the command line's overrides that name the directory, and Hydra's own."""
    from sim.studies.naming import is_hydra_override, task_overrides, write_overrides

    given = [str(o) for o in OmegaConf.select(config, "hydra.overrides.task", default=None) or []]
    given += [str(o) for o in OmegaConf.select(config, "hydra.overrides.hydra", default=None) or []]
    hydra_given = [o for o in given if is_hydra_override(o)]
    try:
        write_overrides(sweep_dir, task_overrides(given), hydra=hydra_given)
    except OSError as err:  # informative only: the sweep goes on
        log.warning("could not write %s/overrides.yaml: %s", sweep_dir, err)


def _stop_idle_workers() -> None:
    """Ask joblib's idle worker processes to exit now, without waiting for them.

    Every run is over; a worker that joblib started itself takes about a second to tear its interpreter
    down (numba, pyarrow, matplotlib...), which the parent otherwise waits for at exit, after the
    collection. Asked here, they do it while the parent collects the sweep. (Killed instead, they would
    leave the standard library's resource tracker warning about the semaphores they held.) The workers
    forked from the sweep's fork server (`sim.studies.prestart`) end at once, without a teardown.
    """
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=False)


def _on_local_pool() -> Any:
    """The local worker pool this command's sweep runs on (`sim.studies.prestart.pool`), or None."""
    from sim.studies import prestart

    return prestart.pool()


def _jobs_run_here(config: DictConfig) -> bool:
    """Whether the sweep's jobs run in this process: Hydra's basic launcher, or joblib's with one worker."""
    target = str(OmegaConf.select(config, "hydra.launcher._target_", default=""))
    if target.endswith("BasicLauncher"):
        return True
    if not target.endswith("JoblibLauncher"):
        return False
    from sim.studies.prestart import effective_jobs

    try:
        return effective_jobs(int(OmegaConf.select(config, "hydra.launcher.n_jobs", default=-1))) <= 1
    except Exception:
        return False


def _collect_here(
    sweep_dir: Path, metric: str, scopes: list[str] | None, figure: bool, capture: bool = True
) -> tuple[dict[str, Any] | None, tuple[str, str] | None, list[tuple[int, str]]]:
    """`collect` the sweep here (in a pool's worker, or the sweep's own process): (result, problem, log lines).

    problem: ("collect", the CollectError's lines) or ("write", the OSError's text). With `capture`, what
    the collection logs is returned instead of going where this process logs (in a worker: the log of its
    last run), for the sweep's process to say.
    """
    from sim.studies.collect import CollectError, collect

    records: list[tuple[int, str]] = []
    logger = logging.getLogger("sim.studies")
    handler = _Keep(records)
    propagate = logger.propagate
    if capture:
        logger.addHandler(handler)
        logger.propagate = False
    try:
        result = collect(sweep_dir, metric=metric, scopes=scopes, figure=figure)
    except CollectError as err:
        return None, ("collect", str(err)), records
    except OSError as err:
        return None, ("write", str(err.strerror or err)), records
    finally:
        if capture:
            logger.removeHandler(handler)
            logger.propagate = propagate
    return result, None, records


class _Keep(logging.Handler):
    """Keeps (level, message) of each record."""

    def __init__(self, records: list[tuple[int, str]]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.getMessage()))


def _sweep_logging(config: DictConfig) -> None:
    """The sweep's own logging again (Hydra's `hydra_logging`: the terminal), as its launcher set it up.

    A launcher that runs the jobs in this process (the basic one, joblib with one worker) leaves the
    last job's logging in place: the sweep's last lines went to the last run's `sim.log` instead of the
    terminal.
    """
    from hydra.core.utils import configure_log

    try:
        configure_log(config.hydra.hydra_logging, config.hydra.verbose)
    except Exception as err:  # the sweep's lines then go where the last job's did; the sweep goes on
        log.warning("could not restore the sweep's logging: %s", err)


def _prepare_collection(figure: bool) -> None:
    """Import what the collection needs and load matplotlib's font, while the sweep's runs go on.

    About a second and a half of the parent's time at the end of every sweep (pyarrow's modules and its
    Parquet writer's set-up, the metrics table's schema with the recorder's module, pandas, scipy's t
    quantile, matplotlib and its font metrics), spent instead while the runs go on elsewhere: on a cluster
    (Slurm, Ray), or in a local pool that `sim.studies.prestart` did not start (whose sweep a worker does
    not collect). Not when the jobs run in this process (one local worker): they import the same modules
    meanwhile, and two threads importing numba at once deadlocked on llvmlite's lock (seen once in
    a sweep); its jobs leave those modules imported for the collection anyway.
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        import sim.run.recorder  # noqa: F401  (the schema of metrics.parquet)
        import sim.studies.collect  # noqa: F401

        # pyarrow sets up its Parquet writer, zstd and dictionary casts on first use (about 0.3 s): a table
        # of two rows through them, in memory, now rather than in the sweep's tail
        table = pa.table({"a": pa.array(["x", "y"]).dictionary_encode(), "v": pa.array([1.0, 2.0])})
        table = table.cast(pa.schema([("a", pa.dictionary(pa.int32(), pa.string())), ("v", pa.float64())]))
        buffer = pa.BufferOutputStream()
        pq.write_table(table, buffer, compression="zstd")
        pq.read_table(pa.BufferReader(buffer.getvalue()))

        if figure:
            import numpy as np
            import pandas  # noqa: F401
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            from sim.studies.collect import t_half_width

            t_half_width(np.array([0.0, 1.0]))  # the t quantile's import

            fig = Figure(figsize=(2, 1))
            fig.text(0.5, 0.5, "sweep")
            FigureCanvasAgg(fig).draw()  # a canvas of this figure alone: no pyplot, no backend switched
    except Exception:  # the collection itself reports whatever goes wrong here
        pass


class SweepCallback(Callback):
    def __init__(
        self,
        progress: str = "auto",
        collect: bool = True,
        metric: str = "final.esteban_ray",
        scopes: Any = None,
        slim_job_returns: bool = True,
        figure: bool = True,
    ) -> None:
        self.progress_mode = str(progress)
        self.collect = collect
        self.metric = metric
        self.scopes = list(scopes) if scopes else None
        self.slim_job_returns = slim_job_returns
        self.figure = figure
        self._progress: SweepProgress | None = None
        self._lock: SweepLock | None = None
        self._started = 0.0

    def __getstate__(self) -> dict[str, Any]:  # the callback travels to workers; the bar stays here
        state = dict(self.__dict__)
        state["_progress"] = None
        state["_lock"] = None
        return state

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from sim.studies.jobshare import install as send_job_state_once
        from sim.studies.progress import SweepProgress

        # the sweep's context, config and state: pickled once, unpickled once per worker (before the
        # launcher starts; installed here, not on import: a single run need not import joblib's launcher)
        send_job_state_once()

        sweep_dir = Path(str(config.hydra.sweep.dir))
        self._lock = SweepLock(sweep_dir)
        refused = self._lock.acquire()
        if refused is not None:
            self._lock = None
            print(f"error: {refused}", file=sys.stderr)
            raise SystemExit(1)
        atexit.register(self._lock.release)  # a sweep that crashes frees its directory too
        _write_sweep_overrides(sweep_dir, config)
        self._started = time.time() - 1.0  # file times may be coarser than the clock
        self._progress = SweepProgress(
            sweep_dir, sweep_jobs(config), mode=self.progress_mode, desc=f"sweep {sweep_dir.name}"
        )
        if self.collect and not _on_local_pool() and not _jobs_run_here(config):  # see _prepare_collection
            threading.Thread(target=_prepare_collection, args=(self.figure,), daemon=True).start()

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if self.slim_job_returns:
            # Hydra keeps every JobReturn of a sweep in the parent; each holds two copies of the job's
            # config (~0.2 MB each here). The sweepers and launchers use only status and return_value.
            job_return.cfg = None
            job_return.hydra_cfg = None

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        pool = _on_local_pool() if self.collect else None
        if pool is None:
            _stop_idle_workers()  # they tear down while the sweep is collected
        _sweep_logging(config)
        done = self._progress.close() if self._progress is not None else None
        self._progress = None
        sweep_dir = Path(str(config.hydra.sweep.dir))
        try:
            problems = failed_runs(sweep_dir, self._started)
            if self.collect:
                problems += self._collect(sweep_dir, done, pool)
        finally:
            if pool is not None:
                _stop_idle_workers()
            if self._lock is not None:
                self._lock.release()
                self._lock = None
        if problems:
            print(f"error: the sweep in {sweep_dir} did not complete:", file=sys.stderr)
            for line in problems:
                print(f"  {line}", file=sys.stderr)
            raise SystemExit(1)

    def _collect(self, sweep_dir: Path, done: int | None, pool: Any = None) -> list[str]:
        """Collect the sweep (in a worker of `pool`, if given); what went wrong, as lines (empty when collected)."""
        args = (sweep_dir, self.metric, self.scopes, self.figure)
        outcome = None
        if pool is not None:
            try:
                outcome = pool.submit(_collect_here, *args).result()
            except Exception:  # the pool broke (a worker was killed): this process collects instead
                outcome = None
        if outcome is None:
            outcome = _collect_here(*args, capture=False)
        result, problem, records = outcome
        for level, message in records:  # what the collection logged in the worker, said here
            log.log(level, "%s", message)
        if problem is not None:
            kind, text = problem
            if kind == "collect":
                return text.splitlines()
            return [f"could not write the collected tables of {sweep_dir}: {text}"]
        assert result is not None
        if not result["runs"]:
            log.warning("sweep done: no complete run in %s", sweep_dir)
            return []
        figure = Path(result["figure"]).name if result["figure"] else "no figure"
        log.info(
            "sweep done: %d runs complete; collected into %s/ (summary.parquet, metrics.parquet, *.columns.csv, %s)",
            result["runs"] if done is None else max(done, result["runs"]),
            sweep_dir,
            figure,
        )
        return []
