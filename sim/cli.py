"""The command line: `python -m sim [key=value ...]`, a Hydra app (add -m for sweeps, docs/sweeps.md)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, cast

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.config.compose import CONF_DIR, register_schema
from sim.config.errors import InputError
from sim.config.params import Config, validate
from sim.run.report import summary_table
from sim.studies.naming import register_resolvers

register_schema()
register_resolvers()  # also in every worker of a sweep: unpickling the task function imports this module
log = logging.getLogger("sim.run")


def to_config(dcfg: DictConfig) -> Config:
    """The typed, validated config (raises InputError naming the key at fault)."""
    return validate(cast(Config, OmegaConf.to_object(dcfg)))


def job_meta(hc: DictConfig) -> dict[str, Any]:
    """What the completion marker keeps of Hydra's view of a job (sim.studies.collect reads it)."""
    choices = cast(dict[str, Any], OmegaConf.to_container(hc.runtime.choices))
    num = OmegaConf.select(hc, "job.num", default=None, throw_on_missing=False)
    return {
        "overrides": list(cast(list[str], OmegaConf.to_container(hc.overrides.task))),
        "choices": {k: v for k, v in choices.items() if not k.startswith("hydra/")},
        "job_num": num if isinstance(num, int) else None,
        "mode": str(hc.mode.name) if hc.mode is not None else None,
    }


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def main(dcfg: DictConfig) -> None:
    from sim.run.completion import completed

    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    try:
        cfg = to_config(dcfg)
        if multirun:
            cfg.output.progress = "off"  # a sweep shows one bar over its runs instead (sim.studies.callbacks)
            if completed(out, cfg) is not None:  # a resumed sweep: this run is complete, same config
                log.info("run skipped: %s is complete for this config", out)
                return None
        from sim.run.runner import run  # the model (and its compiled step) only when there is a run to do

        summary = run(cfg, out, meta=job_meta(cast(DictConfig, hc)))  # HydraConfig.get() is a DictConfig
    except InputError as err:
        if multirun:
            raise  # the job fails; Hydra reports it once the other runs are done
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    if multirun:
        log.info("summary of %s\n%s", out, summary_table(summary))
        return None  # nothing big kept in Hydra's per-job results
    print(summary_table(summary))
    print(f"outputs: {out}")
