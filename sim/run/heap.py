"""The long-lived objects of a process kept out of Python's cyclic garbage collector (`gc.freeze`).

numba, LLVM's bindings, Hydra, pandas and matplotlib leave about 180,000 objects that Python's garbage
collector tracks once imported, and a run's first steps (its kernels loaded, its outputs' writers) about
100,000 more. Every full collection walks them all: about 0.16 s each on a 2-core machine, three of
them during the imports and two during a first default run, then one every second run of a sweep's
worker (a tenth of a default run). They live as long as the process and are never garbage.
`gc.freeze()` moves every object alive at that moment to a generation the collector never walks; the
objects made afterwards (each run's own) are collected as before. A cycle that is already garbage when
frozen is never freed, so a freeze comes right after imports (which make next to none) or after a
collection:

- `freeze()` after imports (`python -m sim` once its command line is imported; the fork server of a
  sweep's workers once it has imported what a run needs);
- `before_first_run()` once per process, where the model's own modules have just been imported;
- `settle()` once per process after its first run: a collection (of what that run left, about 30 ms
  with the imports frozen before it), then a freeze.

`paused()` keeps the collector out of a burst of short-lived objects (a run's figure: matplotlib makes
and drops about a hundred thousand, and the collections they trigger took a seventh of the drawing).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_before = False
_settled = False


def freeze(collect: bool = False) -> None:
    """Keep every object alive now out of later collections; `collect`: collect the garbage first."""
    if collect:
        gc.collect()
    gc.freeze()


def before_first_run() -> None:
    """Once per process, just before its first run: freeze what the imports made."""
    global _before
    if _before or _settled:
        return
    _before = True
    freeze()


def settle() -> None:
    """Once per process, after its first run: collect what is garbage now, then freeze the rest."""
    global _settled
    if _settled:
        return
    _settled = True
    freeze(collect=True)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No automatic collection inside (unless already off); what became garbage is collected later, as usual."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
