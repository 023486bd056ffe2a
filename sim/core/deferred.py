"""Packages whose `__init__` waits for the first use of a name it defines (lazy loading, applied from outside).

Some packages a run needs only part of run a long `__init__` when anything in them is imported: Mesa's
imports every part of Mesa (its grids and networks, with scipy.spatial and networkx) though the model uses
`Model`, `Agent` and `DataCollector` (`sim.model.mesa_import`); scipy.linalg's imports all of scipy.linalg
though numba only checks that `scipy.linalg.cython_blas` is there (`sim.core.cache`); scipy.special's
imports all of scipy.special though a sweep's collection needs only Student's t quantile
(`sim.studies.collect`). `defer(name)` puts
the package in `sys.modules` with its `__init__` not yet run, as the Scientific Python ecosystem's lazy
loading (SPEC 1) does from inside a package:

- a submodule imports as always (`import mesa.model`: the import system needs only the package's
  `__path__`, set with the module), without the package's `__init__`;
- the first use of a name the package does not yet have (`mesa.batch_run`, `from mesa import space`,
  `dir(mesa)`, `scipy.linalg.eigh`) runs its `__init__` there and then, once, under a lock (another thread
  using the package meanwhile waits for it, as for an import under way): every name the package defines
  is then there, the same objects as after a plain import, and the package is a plain module again;
- names given in `names` come from the modules that define them, without the `__init__` (from the
  `__init__` if a name is not found there: a version of the package that moved it);
- an `__init__` that fails leaves the package deferred (the next use runs it again, as a failed import is
  retried); a name its own `__init__` reads before setting it is missing, as in a plain import.

A package already imported, or not a package, is left as it is.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

_lock = threading.RLock()
_running: set[str] = set()  # the packages whose `__init__` runs now (read and written under the lock)
_names: dict[str, dict[str, str]] = {}  # package -> {name: the module that defines it}


class DeferredPackage(types.ModuleType):
    """A package whose `__init__` runs on the first use of a name it does not yet have (the module's docstring)."""

    def __getattr__(self, name: str) -> Any:
        source = _names.get(self.__name__, {}).get(name)
        if source is not None:
            try:
                value = getattr(importlib.import_module(source), name)
            except (ImportError, AttributeError):  # not where it was: the package's __init__ says where
                pass
            else:
                setattr(self, name, value)
                return value
        if not self._run_init():
            raise AttributeError(f"partially initialized module {self.__name__!r} has no attribute {name!r}")
        return getattr(self, name)

    def __dir__(self) -> list[str]:
        self._run_init()
        return sorted(vars(self))

    def _run_init(self) -> bool:
        """Run the package's `__init__` unless it has run; False if this thread is running it now."""
        with _lock:
            if type(self) is not DeferredPackage:
                return True
            if self.__name__ in _running:
                return False
            _running.add(self.__name__)
            try:
                self.__spec__.loader.exec_module(self)  # type: ignore[union-attr]
            finally:
                _running.discard(self.__name__)
            self.__class__ = types.ModuleType  # type: ignore[assignment]
            _names.pop(self.__name__, None)  # a plain module now: its names are its own
            return True


def defer(name: str, names: dict[str, str] | None = None) -> bool:
    """Put package `name` in `sys.modules` (and on its parent) with its `__init__` deferred; False if left as it is.

    `names`: names of the package taken from the modules that define them ({"Model": "mesa.model"}).
    """
    if name in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec(name)
    except ImportError:  # its parent package is not there: whoever imports it meets that, as without this
        return False
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False  # not a package this can defer: imported as always
    module = importlib.util.module_from_spec(spec)
    _names[name] = dict(names or {})
    module.__class__ = DeferredPackage
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return True
