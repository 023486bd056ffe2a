"""Which new numpy arrays ask Linux for transparent huge pages (2 MiB) and which stay on ordinary 4 KiB pages.

numpy asks for huge pages (`madvise(MADV_HUGEPAGE)`) for every array of 4 MiB or more. A huge page
saves the address translations of reads that land anywhere in a large array (a tie to an agent far
away), but on a virtual machine that hands the memory of freed huge pages back to its host
(Firecracker, several clouds) first touching one cost 11-13 ms here, about 13 times the 4 KiB pages
of the same memory (400 MB: 2.2 s against 0.17 s, 2-core Intel Xeon). Most of a run's large arrays
are temporaries, or read front to back: the network's builders, the step's draws, the metrics' copies.
So a model builds its state and runs its steps on ordinary pages (`ordinary_pages`), and asks for huge
pages (`huge_pages`) only for the arrays it keeps and the tie phases read at random places: the tie
store's slots and index (`sim.core.tiestore`), the state's per-agent columns (`sim.core.initialize`),
the exchange's neighbour words and the arrays it writes the new stance, engagement and load into
(`sim.step.compiled`).
Measured at ten million agents (the benchmark's SBM, 2-core Intel Xeon, a shared virtual machine whose
speed varied by a fifth within the hour): huge pages everywhere, set-up 30.0 and 35.9 s and first
step 7.4 s; everything on ordinary pages but the neighbour words, 17-20 s and 3.0-5.3 s, but the steps
after it 4-10% slower (the tie phases: the exclusion, the forming of ties, the in-group counts);
ordinary pages for all but the store and the neighbour words, 24.3-26.6 s and 3.9-4.6 s. Putting the
state's columns back on huge pages adds about 310 of them (3-4 s) to the set-up, for the tie phases.

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
