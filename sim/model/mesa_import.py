"""Mesa, imported without the stack walks of its logging helpers: 0.15-0.3 s less in every process that runs the model.

When `mesa.model` is imported, Mesa names its module logger with `inspect.stack()` and the class of its
logged `Model.__init__` with `inspect.getouterframes(...)`. Both build the full description of every frame
of the importing stack (tens of frames deep during an import), looking up each frame's source file and
module by scanning every module loaded so far: 0.20-0.33 s of a 0.05 s import where pandas, scipy,
networkx and numba are loaded first (as in a run; 2-core AMD EPYC), growing with the modules loaded.
Mesa reads only the caller's module (`getmodule(frame)`) and the caller's name (`[1][3]`).

`import_mesa()` imports Mesa with `inspect.stack`, `inspect.getouterframes` and `inspect.getmodule`
answering those from the frames themselves (each frame's code, line and module by its globals): the same
logger names and class name (tested), without the scans. The three are restored as soon as the import is
done; this runs at the first import of `sim.model`, before the model's processes start any thread.

Mesa's package `__init__` (and `mesa.experimental`'s) imports every part of Mesa: its grids, networks,
continuous and Voronoi spaces, meta-agents, the batch runner, and with them scipy.spatial and networkx,
about 0.25 s of every process that runs the model (the fork server of a sweep's workers, a sweep on one
worker, a single run, the app) though the model uses only `mesa.Model`, `mesa.Agent` and
`mesa.DataCollector`. `import_mesa()` imports those three from the modules that define them, with the two
packages' `__init__` deferred (`sim.core.deferred`, the lazy loading of the Scientific Python ecosystem's
SPEC 1, applied from outside): the first use of any other name of `mesa` or `mesa.experimental`
(`mesa.batch_run`, `mesa.space`, `from mesa import DataCollector`, `dir(mesa)`, ...) runs the package's own
`__init__` there and then, so every name Mesa defines is there, the same objects as after a plain
`import mesa` (tested); a submodule (`import mesa.discrete_space`) imports as always. Mesa imported before
the model (`import mesa` first) is left as it is.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import sys
import types
from collections.abc import Iterator
from typing import Any

from sim.core.deferred import defer


def _frames(frame: types.FrameType | None) -> list[inspect.FrameInfo]:
    """The stack from `frame` outwards, as `inspect.stack()` lists it, less the source lines (none asked for)."""
    out = []
    while frame is not None:
        code = frame.f_code
        out.append(inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None))
        frame = frame.f_back
    return out


@contextlib.contextmanager
def frames_from_globals() -> Iterator[None]:
    """`inspect.stack`, `getouterframes` and `getmodule` (of a frame) answered from the frames, for the block."""
    saved = inspect.stack, inspect.getouterframes, inspect.getmodule

    def stack(context: int = 1) -> list[inspect.FrameInfo]:
        return _frames(sys._getframe(1))

    def getouterframes(frame: types.FrameType, context: int = 1) -> list[inspect.FrameInfo]:
        return _frames(frame)

    def getmodule(obj: Any, _filename: str | None = None) -> types.ModuleType | None:
        if inspect.isframe(obj):
            return sys.modules.get(obj.f_globals.get("__name__", ""))
        return saved[2](obj, _filename)

    inspect.stack, inspect.getouterframes, inspect.getmodule = stack, getouterframes, getmodule  # type: ignore[assignment]
    try:
        yield
    finally:
        inspect.stack, inspect.getouterframes, inspect.getmodule = saved


#: the names the model takes from `mesa` itself, each from the module that defines it
FROM_MODULES = {"Agent": "mesa.agent", "Model": "mesa.model", "DataCollector": "mesa.datacollection"}


def import_mesa() -> types.ModuleType:
    """Mesa, its package `__init__` deferred and without the stack walks (see the module's docstring).

    Mesa as it is if anything imported it first.
    """
    if "mesa" in sys.modules:
        import mesa.model  # noqa: F401  (what the model needs, whoever imported the package)

        return sys.modules["mesa"]
    with frames_from_globals():
        defer("mesa", FROM_MODULES)  # the packages' __init__ waits for a name (the module's docstring)
        defer("mesa.experimental")
        for name in FROM_MODULES.values():
            importlib.import_module(name)
    return sys.modules["mesa"]


import_mesa()
