"""numba's cache locator for the package's compiled functions: the directory `sim.CACHE_DIR` (see `sim`).

Installed, once per process, by importing this module; `sim.core.kernels` imports it before any function
of the package is declared, so every compiled function of the package finds its cache there. Not in
`sim/__init__.py`: importing the package would import numba, which a sweep's parent never needs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from numba.core import caching
from numba.core.caching import _CacheLocator, _SourceFileBackedLocatorMixin

import sim
from sim.core.deferred import defer


class _PackageCacheLocator(_SourceFileBackedLocatorMixin, _CacheLocator):
    """numba's cache locator for this package's compiled functions: the hash-named directory `sim.CACHE_DIR`."""

    def __init__(self, py_func: object, py_file: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno  # type: ignore[attr-defined]
        self._cache_path = os.path.join(sim.CACHE_DIR, self.get_suitable_cache_subpath(py_file))

    def get_cache_path(self) -> str:
        return self._cache_path

    @classmethod
    def from_function(cls, py_func: object, py_file: str) -> _PackageCacheLocator | None:
        if not Path(py_file).resolve().is_relative_to(sim._HERE):
            return None  # not this package's: numba's own locators decide, as without this package
        return super().from_function(py_func, py_file)


_IMPL = vars(caching).get("CacheImpl") or vars(caching)["_CacheImpl"]  # older numba names it _CacheImpl
_LOCATORS: list[type] = _IMPL._locator_classes
if not any(c.__name__ == _PackageCacheLocator.__name__ for c in _LOCATORS):
    _LOCATORS.insert(0, _PackageCacheLocator)


# Loading a compiled function from the cache. numba's `Cache.load_overload` first "refreshes" the target
# context: it imports every module of numba that registers an implementation for the compiler (numba's
# typed containers, linear algebra, random generators, polynomials, jitclass, ...), so that a compilation
# finds them; 0.39 s, once per process, of a warm default run's ~4 s, and of every sweep worker's first
# run. Loading compiled code needs none of it: only numba's runtime (NRT, whose functions the code calls,
# initialized here) and the symbols the code links to. Of those modules only `numba.cpython.hashing`
# adds symbols (Python's hash secret, for hashing in compiled code), so it is imported here. The
# package's functions are loaded without the refresh; a function that is not in the cache is compiled,
# and numba's compiler refreshes the context itself before compiling; other packages' functions load as
# numba loads them.
_numba_load_overload = caching.Cache.load_overload


def _load_overload(self: caching.Cache, sig: Any, target_context: Any) -> Any:
    if not isinstance(self._impl.locator, _PackageCacheLocator):
        return _numba_load_overload(self, sig, target_context)
    _runtime_ready(target_context)
    with self._guard_against_spurious_io_errors():
        return self._load_overload(sig, target_context)


# Loading a compiled function whose code includes one of numba's numpy functions imports numba's module of
# them (`numba.np.arraymath`, named by the function's environment), which checks that scipy's BLAS is there
# by importing `scipy.linalg.cython_blas`: that runs scipy.linalg's `__init__`, all of scipy.linalg (about
# 0.07 s of every process's first run, a sweep worker's included). Only the compiled module is needed: the
# package's `__init__` waits for the first use of one of its names (`sim.core.deferred`).
defer("scipy.linalg")


def _runtime_ready(target_context: Any) -> None:
    """Ready numba's runtime and every symbol compiled code may link to, as numba's refresh does before a load."""
    import numba.cpython.hashing  # noqa: F401  (defines the hash secret's symbols)
    from numba.core.runtime import nrt

    nrt.rtsys.initialize(target_context)


_load_overload.__wrapped__ = _numba_load_overload  # type: ignore[attr-defined]
if getattr(caching.Cache.load_overload, "__name__", "") != _load_overload.__name__:
    caching.Cache.load_overload = _load_overload  # type: ignore[method-assign]
