"""The long-lived objects of a process kept out of Python's cyclic garbage collector (`gc.freeze`).

numba, LLVM's bindings, Hydra, pandas and matplotlib leave about 180,000 objects that Python's garbage
collector tracks once imported, and a run's first steps (its kernels loaded, its outputs' writers) about
100,000 more. Every full collection walks them all: about 0.16 s each on a 2-core machine, three of
them during the imports and two during a first default run, then one every second run of a sweep's
worker (a tenth of a default run). They live as long as the process and are never garbage.
`gc.freeze()` moves every object alive at that moment to a generation the collector never walks; the
objects made afterwards (each run's own) are collected as before. Nothing is freed later than it
would have been but cycles that already existed when frozen, and `settle` collects first.
"""

from __future__ import annotations

import gc

_settled = False


def freeze() -> None:
    """Keep every object alive now out of later collections (after the imports: they are not garbage)."""
    gc.freeze()


def settle() -> None:
    """Once per process (after its first run): collect what is garbage now, then freeze the rest."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
