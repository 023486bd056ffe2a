"""Deterministic names for sweep and run directories (Hydra resolvers `sim.sweep_name`, `sim.run_dir`).

The same command gives the same sweep directory and the same run directories, so running it again
resumes it. `hydra.sweep.dir` defaults to `${sim.sweep_dir:outputs/multirun}`: the absolute path of
outputs/multirun/NAME, NAME made of the command line's task overrides (`${sim.sweep_name:}`; sorted;
Hydra's own `hydra...` overrides, e.g. the launcher, are left out, so the same sweep on another
launcher lands in the same place). `hydra.sweep.subdir` is `${sim.run_dir:${hydra.job.override_dirname}}`:
the job's overrides, `key=value` joined by commas. An experiment config (conf/experiment/NAME.yaml)
sets `hydra.sweep.dir: ${sim.experiment_dir:NAME}`: outputs/experiments/NAME (or $SIM_EXPERIMENTS_DIR/NAME).

Both sweep resolvers are computed once, in the process that starts the sweep, and cached in the
sweep's config; Hydra copies that cache into every job's config (as it does for `${now:...}`), so
workers in other processes, other working directories or on other machines resolve the same path.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys

from omegaconf import OmegaConf

MAX_NAME = 120  # characters kept of a readable name before a hash replaces the rest
_UNSAFE = re.compile(r"[^A-Za-z0-9._,=+\-()\[\]:@%]")


def safe_name(text: str, empty: str) -> str:
    """A file-system-safe directory name for `text`, unique per text (a hash marks any change)."""
    if not text:
        return empty
    safe = _UNSAFE.sub("_", text)
    if safe.startswith("."):
        safe = "_" + safe[1:]
    if safe != text or len(safe) > MAX_NAME:
        digest = hashlib.sha1(text.encode()).hexdigest()[:10]
        safe = f"{safe[: MAX_NAME - 11]}-{digest}"
    return safe


def is_hydra_override(text: str) -> bool:
    return text.lstrip("+~").startswith(("hydra.", "hydra/"))


def sweep_name_of(overrides: list[str]) -> str:
    """The sweep directory's name for these command-line task overrides."""
    task = sorted(o for o in overrides if not is_hydra_override(o))
    return safe_name("__".join(task), empty="default")


def _sweep_name() -> str:
    from sim.config.preflight import overrides_of

    return sweep_name_of(overrides_of(sys.argv[1:]))


def _sweep_dir(base: str = "outputs/multirun") -> str:
    """The absolute sweep directory (workers on a Ray cluster do not share the launching cwd)."""
    return os.path.abspath(os.path.join(base, _sweep_name()))


def _experiment_dir(name: str) -> str:
    """An experiment's sweep directory (conf/experiment/NAME.yaml): $SIM_EXPERIMENTS_DIR/NAME, absolute.

    `SIM_EXPERIMENTS_DIR` defaults to outputs/experiments, where `sim.studies.experiments.load` reads it.
    """
    return os.path.abspath(os.path.join(os.environ.get("SIM_EXPERIMENTS_DIR", "outputs/experiments"), name))


def run_dirname(override_dirname: str) -> str:
    return safe_name(str(override_dirname), empty="run")


def register_resolvers() -> None:
    """Register the resolvers (idempotent); imported by `sim.cli`, so every Hydra job has them."""
    if not OmegaConf.has_resolver("sim.sweep_name"):
        OmegaConf.register_new_resolver("sim.sweep_name", _sweep_name, use_cache=True)
    if not OmegaConf.has_resolver("sim.sweep_dir"):
        OmegaConf.register_new_resolver("sim.sweep_dir", _sweep_dir, use_cache=True)
    if not OmegaConf.has_resolver("sim.experiment_dir"):
        OmegaConf.register_new_resolver("sim.experiment_dir", _experiment_dir, use_cache=True)
    if not OmegaConf.has_resolver("sim.run_dir"):
        OmegaConf.register_new_resolver("sim.run_dir", run_dirname)
