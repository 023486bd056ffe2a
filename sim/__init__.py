"""Professional resocialization simulator: a Mesa agent-based model (see README.md and docs/ODD.md).

`from sim import ResocializationModel, Config, compose, run`: the model, its config, the one entry that
composes a config as the command line does, and one run to its outputs (each imported when first asked for).

Importing the package gives numba's on-disk cache of the package's own compiled functions a directory
named after a hash of the compiled modules' sources (`sim/core`, `sim/step`, `sim/metrics`,
`sim/classics`). numba invalidates a cached function only when its own file changes, not when a function
it calls from another file does (numba's documented limitation): after an edit to, say,
`sim/step/attention.py`, the fused kernels of `sim/step/compiled.py` would otherwise keep running the old
rule. A new hash starts an empty cache instead, so an edited rule is always the rule that runs.
`NUMBA_CACHE_DIR`, if set, is kept as the parent of that directory.

The directory is given by a cache locator that answers only for this package's source files, placed
first in numba's list of locators (`sim.core.cache`, installed by `sim.core.kernels`, which every compiled
module imports before declaring a function): numba's settings (`numba.config.CACHE_DIR`) and the cache of
a user's own compiled functions are left as they were (importing the package changes no global state a
user's session depends on). Importing the package itself does not import numba (a third of a second): a
sweep's parent process, which composes and launches the runs, never loads it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_COMPILED = ("core", "step", "metrics", "classics")  # the packages that hold numba-compiled functions


def _source_hash() -> str:
    h = hashlib.sha256()
    for sub in _COMPILED:
        for path in sorted((_HERE / sub).glob("*.py")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK)


def _cache_dir() -> str:
    name = f"numba-{_source_hash()}"
    user = os.environ.get("NUMBA_CACHE_DIR")
    if user:
        return str(Path(user) / name)
    here = _HERE / "__pycache__" / name
    if _writable(here):
        return str(here)
    return str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "resocialization-sim" / name)


#: where numba caches this package's compiled functions (its cache locator: `sim.core.cache`)
CACHE_DIR = _cache_dir()

__all__ = ["Config", "ResocializationModel", "compose", "run"]
_EXPORTS = {
    "ResocializationModel": ("sim.model", "ResocializationModel"),
    "Config": ("sim.config.params", "Config"),
    "compose": ("sim.config.compose", "compose"),
    "run": ("sim.run.runner", "run"),
}


def __getattr__(name: str):  # PEP 562: `from sim import ResocializationModel` without importing the model first
    if name in _EXPORTS:
        import importlib

        module, attr = _EXPORTS[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
