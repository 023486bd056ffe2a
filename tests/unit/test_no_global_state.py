"""Importing the package changes no global state a user's session depends on (issue 20, item 9).

A notebook imports `sim` and then draws its own figures: if an import switched matplotlib's backend
(say to Agg), every later `plt.show()` would show nothing. Each module of `sim` is imported, one after
the other, in a fresh interpreter whose backend is set as Jupyter sets it (`MPLBACKEND`, matplotlib's
inline backend); after each import the backend and every rcParam must be as they were, and so must
numba's cache directory setting and the warning filters the project itself would add.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Jupyter's backend when matplotlib-inline is installed; otherwise another backend that is not Agg.
BACKEND = (
    "module://matplotlib_inline.backend_inline" if importlib.util.find_spec("matplotlib_inline") is not None else "svg"
)

SCRIPT = r"""
import importlib, json, pkgutil, sys
import matplotlib

import numba, warnings

def snapshot():
    params = {k: repr(v) for k, v in matplotlib.rcParams.items() if k != "backend"}
    params["numba.config.CACHE_DIR"] = repr(numba.config.CACHE_DIR)
    # the project's own warning filter (Hydra's schema notice); third-party imports (scipy) add theirs
    params["warnings.filters (sim's)"] = repr([f for f in warnings.filters if "ConfigStore" in str(f[1])])
    return matplotlib.get_backend(), params

backend0, params0 = snapshot()
import sim

names = sorted(m.name for m in pkgutil.walk_packages(sim.__path__, "sim."))
# the command-line program's module hides Hydra's schema notice for its whole process (and a sweep's
# workers, which import it): it is imported last, and only that filter is allowed to change
PROGRAM, NOTICE = "sim.cli", "warnings.filters (sim's)"
changed, missing = [], []
for name in ["sim"] + [n for n in names if n != PROGRAM] + [PROGRAM]:
    try:
        importlib.import_module(name)
    except ImportError as err:  # an optional dependency that is not installed: reported, not checked
        missing.append(f"{name}: {err}")
        continue
    backend, params = snapshot()
    if backend != backend0:
        changed.append(f"importing {name} switched matplotlib's backend from {backend0!r} to {backend!r}")
    diff = sorted(k for k in params0 if params.get(k) != params0[k] and not (name == PROGRAM and k == NOTICE))
    if diff:
        changed.append(f"importing {name} changed {diff}")
    if changed:
        break
print(json.dumps({"backend": backend0, "modules": names, "changed": changed, "missing": missing}))
"""


def import_everything(root: Path = ROOT, backend: str = BACKEND) -> dict:
    """Import every module of the `sim` package under `root` in a fresh interpreter; what changed."""
    env = {**os.environ, "MPLBACKEND": backend, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=root, env=env, capture_output=True, text=True, timeout=600, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_any_module_keeps_matplotlibs_backend_and_settings():
    report = import_everything()
    assert report["backend"] == BACKEND  # the interpreter started with the notebook's backend
    assert {"sim.run.runner", "sim.run.figure", "sim.viz.app", "sim.studies.experiments"} <= set(report["modules"])
    assert not report["changed"], report["changed"]
    assert not report["missing"], report["missing"]  # every module was imported, so every one was checked
