"""Which new numpy arrays ask Linux for transparent huge pages (2 MiB) and which stay on ordinary 4 KiB pages.

numpy asks for huge pages (`madvise(MADV_HUGEPAGE)`) for every array of 4 MiB or more. A huge page
saves the address translations of reads that land anywhere in a large array (a tie to an agent far
away), but on a virtual machine that hands the memory of freed huge pages back to its host
(Firecracker, several clouds) first touching one cost 11-13 ms here, about 13 times the 4 KiB pages
of the same memory (400 MB: 2.2 s against 0.17 s, 2-core Intel Xeon). Most of a run's large arrays
are read front to back, where ordinary pages cost nothing: the network's builders, the state's
per-agent columns, the step's draws and the metrics' copies. So a model builds its state and runs
its steps on ordinary pages (`ordinary_pages`), and asks for huge pages (`huge_pages`) only for the
arrays every step reads at random places: the tie store's slots and index (`sim.core.tiestore`) and
the exchange's neighbour words (`sim.step.compiled`). At ten million agents (the benchmark's SBM, 2-core
Intel Xeon) this took the model's set-up from 30-36 s to 24 s and its first step from 7.4 s to 3.9 s,
the later steps within 3% of huge pages everywhere (a step was 4-8% slower with none at all); at a
million agents the steps were unchanged and the first one 0.73-0.76 s -> 0.44-0.50 s.

Only which pages back an array changes: never a value. Where numpy has no such switch, both are no-ops.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any


def _setter() -> Any:
    multiarray: Any = importlib.import_module("numpy._core.multiarray")  # numpy >= 2 (the project's floor)
    return getattr(multiarray, "_set_madvise_hugepage", None)


@contextlib.contextmanager
def _pages(huge: bool) -> Iterator[None]:
    setter = _setter()
    if setter is None:
        yield
        return
    was = setter(huge)
    try:
        yield
    finally:
        setter(was)


def ordinary_pages() -> contextlib.AbstractContextManager[None]:
    """New numpy arrays on ordinary (4 KiB) pages within the block; as before it after it."""
    return _pages(False)


def huge_pages() -> contextlib.AbstractContextManager[None]:
    """New numpy arrays of 4 MiB or more on transparent huge pages within the block (numpy's default)."""
    return _pages(True)
