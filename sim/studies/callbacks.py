"""Hydra callbacks of a sweep (`conf/hydra/callbacks/sweep.yaml`, on by default).

`SweepCallback`, in the process that starts the sweep:
- on_multirun_start: one progress bar over the runs (`sim.studies.progress`);
- on_job_end (wherever the job runs): drops the copies of the job's config that Hydra keeps in each
  job's result, so the results of a long sweep stay small in the parent (point 8 of docs/sweeps.md);
- on_multirun_end: collects the runs into SWEEP_DIR/metrics.parquet, summary.parquet and the sweep
  figure (`sim.studies.collect`), as `python -m sim.studies.collect SWEEP_DIR` does by hand.

Hydra turns an exception raised by a callback into a warning; collecting is never allowed to fail
the sweep (its outputs are then made by hand with `python -m sim.studies.collect`).
"""

from __future__ import annotations

import logging
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

    def __getstate__(self) -> dict[str, Any]:  # the callback travels to workers; the bar stays here
        state = dict(self.__dict__)
        state["_progress"] = None
        return state

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from sim.studies.progress import SweepProgress

        sweep_dir = Path(str(config.hydra.sweep.dir))
        self._progress = SweepProgress(
            sweep_dir, sweep_jobs(config), mode=self.progress_mode, desc=f"sweep {sweep_dir.name}"
        )

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if self.slim_job_returns:
            # Hydra keeps every JobReturn of a sweep in the parent; each holds two copies of the job's
            # config (~0.2 MB each here). The sweepers and launchers use only status and return_value.
            job_return.cfg = None
            job_return.hydra_cfg = None

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        done = self._progress.close() if self._progress is not None else None
        self._progress = None
        if not self.collect:
            return
        from sim.studies.collect import collect

        sweep_dir = Path(str(config.hydra.sweep.dir))
        result = collect(sweep_dir, metric=self.metric, scopes=self.scopes, figure=self.figure)
        if not result["runs"]:
            log.warning("sweep done: no complete run in %s", sweep_dir)
            return
        figure = Path(result["figure"]).name if result["figure"] else "no figure"
        log.info(
            "sweep done: %d runs complete; collected into %s/ (summary.parquet, metrics.parquet, %s)",
            result["runs"] if done is None else max(done, result["runs"]),
            sweep_dir,
            figure,
        )
