"""The fork server of a sweep's worker pool (`sim.studies.prestart`): what it does before forking workers.

The fork server only imports the modules it is told to preload; this one is the only one, and its
import is its whole job (nothing else imports it):
- set joblib's thread limits for the pool's workers (`prestart.worker_env` of `JOBS` in its environment)
  before anything reads them (numba reads its thread count when imported): the workers inherit them;
- import what a run and Hydra's job code need, and the task's own module (`prestart` names them in the
  server's environment, `IMPORTS`), with the garbage collector paused meanwhile: the imports make no
  garbage worth collecting, and a collection walks every object (about 0.2 s of them on a 2-core
  machine);
- build Hydra's plugin registry once (`Plugins.instance()`): every worker forked from the server has it
  (`sim.studies.jobstate` keeps it between jobs), instead of each building it for its first job;
- freeze the server's objects (`sim.run.heap`): no worker's collector walks them, and a collection does
  not write to (and so copy) the memory pages a worker shares with the server. Without a collection
  first: the imports leave about 4,600 unreachable objects, which the collection took 0.11 s to find (of
  207,000 tracked), on the way to every sweep's first run; frozen, they stay, shared by the workers.

It never fails: the server dies with an exception raised while it preloads, and the sweep with it, so
whatever goes wrong is left to the workers to meet (and report) as they would without the server.
"""

from __future__ import annotations

import gc
import importlib
import os

from sim.studies.prestart import IMPORTS, JOBS, worker_env

gc.disable()
try:
    _jobs = os.environ.pop(JOBS, "")
    if _jobs:
        try:
            os.environ.update(worker_env(int(_jobs)))
        except Exception:  # the workers then run with the server's own environment, as the parent's
            pass
    for _name in filter(None, os.environ.get(IMPORTS, "").split(",")):
        try:
            importlib.import_module(_name)
        except Exception:  # the server must come up: a worker then imports it itself, and reports the error
            pass
    try:
        from hydra.core.plugins import Plugins

        Plugins.instance()
    except Exception:  # each worker's first job builds the registry, as without the server
        pass
    from sim.run import heap

    heap.freeze()  # not heap.settle(): each worker settles after its own first run
finally:
    gc.enable()
