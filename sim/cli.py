"""The command line: `python -m sim [key=value ...]`, a Hydra app (add -m for sweeps)."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim.errors import InputError
from sim.params import Config, validate
from sim.preflight import CONF_DIR, register_schema
from sim.report import summary_table

register_schema()


def to_config(dcfg: DictConfig) -> Config:
    """The typed, validated config (raises InputError naming the key at fault)."""
    return validate(OmegaConf.to_object(dcfg))


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def main(dcfg: DictConfig) -> None:
    from sim.runner import run

    out = Path(HydraConfig.get().runtime.output_dir)
    try:
        summary = run(to_config(dcfg), out)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    print(summary_table(summary))
    print(f"outputs: {out}")
