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
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import types
from collections.abc import Iterator
from typing import Any


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


def import_mesa() -> types.ModuleType:
    """`import mesa`, without the stack walks (see the module's docstring); Mesa itself if already imported."""
    if "mesa.model" in sys.modules:
        return sys.modules["mesa"]
    with frames_from_globals():
        import mesa
    return mesa


import_mesa()
