"""numba's cache locator for the package's compiled functions: the directory `sim.CACHE_DIR` (see `sim`).

Installed, once per process, by importing this module; `sim.core.kernels` imports it before any function
of the package is declared, so every compiled function of the package finds its cache there. Not in
`sim/__init__.py`: importing the package would import numba, which a sweep's parent never needs.
"""

from __future__ import annotations

import os
from pathlib import Path

from numba.core import caching
from numba.core.caching import _CacheLocator, _SourceFileBackedLocatorMixin

import sim


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
