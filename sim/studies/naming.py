"""Where outputs go, and deterministic, shell-safe names for sweep and run directories.

**The outputs root** (`outputs_root`): `$SIM_OUTPUTS` if set (a relative value is taken from the working
directory), else `outputs/` of the project (the directory that holds `conf/` and `pyproject.toml`
beside the `sim` package: an editable install, as `bash tasks.sh` makes), else `./outputs` (a package
installed away from its checkout). A run started from any directory lands there: single runs in
ROOT/runs/, sweeps in ROOT/multirun/, experiments in ROOT/experiments/ (or `$SIM_EXPERIMENTS_DIR`),
calibrations and sensitivity analyses in ROOT/calibration/ and ROOT/sensitivity/.

**Names** (`dir_name`): a readable slug of the overrides in `[A-Za-z0-9._-]` only (`=` becomes `-`, `,`
becomes `_`, any other character or run of characters `-`; cut to MAX_SLUG characters), then `__` and
the first HASH_LEN hex digits of the sha256 of the exact overrides (a sweep's: of their sorted list),
so two different override sets never share a directory even when their slugs do. A name never needs
quoting in a shell and never starts with `-` or `.`. The exact overrides are written inside, in
`overrides.yaml` (`write_overrides`).

- the sweep directory (`hydra.sweep.dir: ${sim.sweep_dir:multirun}`) is ROOT/multirun/NAME, NAME made of
  the command line's task overrides, sorted, joined by `__`; Hydra's own `hydra...` overrides (the
  launcher, its settings) are left out, so the same sweep on another launcher lands in the same place;
- a run directory (`hydra.sweep.subdir: ${sim.run_dir:${hydra.job.override_dirname}}`) is named after
  the job's overrides (Hydra's `override_dirname`, `key=value` joined by `__`, conf/config.yaml).

The same command gives the same names, so running it again resumes it. An experiment config
(conf/experiment/NAME.yaml) sets `hydra.sweep.dir: ${sim.experiment_dir:NAME}`.

The sweep resolvers are computed once, in the process that starts the sweep, and cached in the sweep's
config; Hydra copies that cache into every job's config (as it does for `${now:...}`), so workers in
other processes, other working directories or on other machines resolve the same path.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from omegaconf import OmegaConf

MAX_SLUG = 100  # characters kept of the readable part of a name
HASH_LEN = 10  # hex digits of the sha256 of the exact overrides (40 bits)
SAFE = re.compile(r"[A-Za-z0-9._-]+")  # every name matches it: nothing to quote in a shell
OVERRIDES_FILE = "overrides.yaml"  # the exact overrides, inside each sweep and run directory
PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the checkout holding sim/ (sim/studies/naming.py)


def outputs_root() -> Path:
    """The absolute directory under which every output goes ($SIM_OUTPUTS, the project's outputs/ or ./outputs)."""
    env = os.environ.get("SIM_OUTPUTS")
    if env:
        return Path(os.path.abspath(os.path.expanduser(env)))
    if (PROJECT_ROOT / "conf" / "config.yaml").is_file() and (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "outputs"
    return Path(os.path.abspath("outputs"))


def under_outputs(sub: str) -> str:
    """`sub` under the outputs root, absolute (an absolute `sub` is kept)."""
    return os.path.join(outputs_root(), os.path.expanduser(sub))


def slug(text: str) -> str:
    """The readable part of a name: `=` -> `-`, `,` -> `_`, other characters outside [A-Za-z0-9._-] -> `-`."""
    s = text.replace("=", "-").replace(",", "_")
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", s)
    s = re.sub(r"-{2,}", "-", s)
    s = s[:MAX_SLUG].strip("-._")
    return s


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LEN]


def dir_name(text: str, empty: str, exact: str | None = None) -> str:
    """`slug__hash`: the slug of `text`, the hash of `exact` (default `text`); `empty` alone for no text."""
    if not text:
        return empty
    return f"{slug(text) or empty}__{digest(text if exact is None else exact)}"


def is_hydra_override(text: str) -> bool:
    return text.lstrip("+~").startswith(("hydra.", "hydra/"))


def task_overrides(overrides: list[str]) -> list[str]:
    """The overrides that name a sweep: sorted, Hydra's own (`hydra...`) left out."""
    return sorted(o for o in overrides if not is_hydra_override(o))


def sweep_name_of(overrides: list[str]) -> str:
    """The sweep directory's name for these command-line overrides (the hash: of the sorted list itself)."""
    task = task_overrides(overrides)
    return dir_name("__".join(task), empty="default", exact=json.dumps(task))


def run_dirname(override_dirname: str) -> str:
    """A run directory's name for the job's `hydra.job.override_dirname`."""
    return dir_name(str(override_dirname), empty="run")


def write_overrides(directory: str | os.PathLike, overrides: list[str], **extra: object) -> Path:
    """`DIR/overrides.yaml`: the exact overrides that name the directory (atomic; YAML that is also JSON)."""
    from sim.run.io import atomic_path

    path = Path(directory) / OVERRIDES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# the exact overrides behind this directory's name (sim/studies/naming.py)"]
    lines.append(f"overrides: {json.dumps(list(overrides))}")
    lines += [f"{k}: {json.dumps(v)}" for k, v in extra.items()]
    text = "\n".join(lines) + "\n"
    if path.exists() and path.read_text() == text:
        return path
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def read_overrides(directory: str | os.PathLike) -> list[str]:
    """The overrides of `DIR/overrides.yaml` ([] if absent)."""
    path = Path(directory) / OVERRIDES_FILE
    if not path.exists():
        return []
    import yaml

    data = yaml.safe_load(path.read_text()) or {}
    return [str(o) for o in data.get("overrides") or []]


def _sweep_name() -> str:
    from sim.config.preflight import overrides_of

    return sweep_name_of(overrides_of(sys.argv[1:]))


def _sweep_dir(base: str = "multirun") -> str:
    """The absolute sweep directory (workers on a Ray cluster do not share the launching cwd)."""
    return os.path.join(under_outputs(base), _sweep_name())


def _experiment_dir(name: str) -> str:
    """An experiment's sweep directory (conf/experiment/NAME.yaml): $SIM_EXPERIMENTS_DIR/NAME, absolute."""
    return str(experiments_root() / name)


def experiments_root() -> Path:
    """`$SIM_EXPERIMENTS_DIR` (absolute), default ROOT/experiments; `sim.studies.experiments.load` reads it."""
    env = os.environ.get("SIM_EXPERIMENTS_DIR")
    return Path(os.path.abspath(env)) if env else outputs_root() / "experiments"


def unwritable(path: Path) -> str | None:
    """Why no directory can be made at `path` and written in, None if one can; nothing is left behind.

    An existing directory must be writable; otherwise the nearest existing ancestor must be a directory in
    which one can be made: tried (`mkdtemp`, removed at once), since a mount may refuse what its modes allow
    (`/proc`, a read-only file system, a full quota).
    """
    if path.is_dir():
        return None if os.access(path, os.W_OK | os.X_OK) else f"{path}: not writable"
    parent = path
    while not parent.exists() and parent.parent != parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is not a directory"
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".sim-probe-", dir=parent))
    except OSError as err:
        return f"{parent}: {err.strerror or err}"
    return None


def _refuse_unwritable(path: str | Path, what: str) -> None:
    """InputError `what`; allowed: ... (why) when no directory can be made and written at `path` (~, relative)."""
    from sim.config.errors import InputError

    why = unwritable(Path(os.path.abspath(os.path.expanduser(path))))
    if why is not None:
        raise InputError(f"{what}; allowed: a directory this process can make and write in ({why})")


def check_out(out: Path, flag: str = "--out") -> None:
    """A study's output directory (`--out`) can be made and written, else one line (InputError), before any work."""
    _refuse_unwritable(out, f"invalid option: {flag} {out}")


def check_output_dir(argv: list[str]) -> None:
    """The directory this command line writes under can be made and written: else one line (InputError).

    Checked before anything is written (`python -m sim` calls it after the preflight): without it a run
    directory that cannot be made (`hydra.run.dir=/proc/x`, a path under a file, `SIM_OUTPUTS` on a
    read-only mount) ended the command with Hydra's traceback. The directory is the command line's
    `hydra.run.dir` (a single run) or `hydra.sweep.dir` (`-m`) when given without interpolation, else the
    outputs root (`SIM_OUTPUTS`, or the project's outputs/) or, for an experiment, `SIM_EXPERIMENTS_DIR`.
    """
    key = "hydra.sweep.dir" if ("-m" in argv or "--multirun" in argv) else "hydra.run.dir"
    given = [a.split("=", 1)[1] for a in argv if a.lstrip("+").split("=", 1)[0] == key and "=" in a]
    if given:
        if "${" not in given[-1]:  # with an interpolation Hydra resolves it: not a path yet
            _refuse_unwritable(given[-1], f"invalid config: {key}={given[-1]}")
    elif os.environ.get("SIM_EXPERIMENTS_DIR") and any("experiment=" in a for a in argv):
        env = os.environ["SIM_EXPERIMENTS_DIR"]
        _refuse_unwritable(experiments_root(), f"invalid environment: SIM_EXPERIMENTS_DIR={env}")
    elif os.environ.get("SIM_OUTPUTS"):
        _refuse_unwritable(outputs_root(), f"invalid environment: SIM_OUTPUTS={os.environ['SIM_OUTPUTS']}")
    else:
        root = outputs_root()
        _refuse_unwritable(root, f"cannot write outputs under {root} (set SIM_OUTPUTS to a directory you can write)")


def register_resolvers() -> None:
    """Register the resolvers (idempotent); imported by `sim.cli`, so every Hydra job has them."""
    if not OmegaConf.has_resolver("sim.outputs"):
        OmegaConf.register_new_resolver("sim.outputs", under_outputs, use_cache=True)
    if not OmegaConf.has_resolver("sim.sweep_name"):
        OmegaConf.register_new_resolver("sim.sweep_name", _sweep_name, use_cache=True)
    if not OmegaConf.has_resolver("sim.sweep_dir"):
        OmegaConf.register_new_resolver("sim.sweep_dir", _sweep_dir, use_cache=True)
    if not OmegaConf.has_resolver("sim.experiment_dir"):
        OmegaConf.register_new_resolver("sim.experiment_dir", _experiment_dir, use_cache=True)
    if not OmegaConf.has_resolver("sim.run_dir"):
        OmegaConf.register_new_resolver("sim.run_dir", run_dirname)
