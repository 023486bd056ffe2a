"""One progress bar over the runs of a sweep, for any launcher.

Launchers block until their batch of runs is done and report nothing on the way, and runs execute in
other processes (joblib, Ray) or on other machines (Slurm). The bar therefore watches the sweep
directory: a run is done when its completion marker appears (`sim.run.completion`). Runs already complete
when the sweep starts (a resumed sweep) are counted from the start; the rate and ETA come from the runs
done since. The bar is drawn on stderr by a daemon thread of the process that started the sweep.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from sim.run.completion import MARKER


def count_complete(sweep_dir: Path) -> int:
    """Completion markers in the run directories of a sweep (`hydra.sweep.subdir` is one level)."""
    n = 0
    try:
        with os.scandir(sweep_dir) as it:
            for entry in it:
                if entry.is_dir() and not entry.name.startswith("."):
                    n += os.path.exists(os.path.join(entry.path, MARKER))
    except FileNotFoundError:
        return 0
    return n


def show_bar(mode: str) -> bool:
    return mode == "on" or (mode == "auto" and sys.stderr.isatty())


class SweepProgress:
    """A tqdm bar `runs done / total` that polls the sweep directory until `close()`."""

    def __init__(
        self,
        sweep_dir: str | os.PathLike,
        total: int | None,
        *,
        interval: float = 1.0,
        mode: str = "auto",
        desc: str = "sweep",
    ) -> None:
        from tqdm.auto import tqdm

        self.sweep_dir = Path(sweep_dir)
        self.total = total
        self.interval = interval
        self._stop = threading.Event()
        self.done_at_start = count_complete(self.sweep_dir)
        self.n = min(self.done_at_start, total if total is not None else self.done_at_start)
        self.bar = tqdm(
            total=total,
            initial=self.n,
            unit="run",
            desc=desc,
            disable=not show_bar(mode),
            file=sys.stderr,
            dynamic_ncols=True,
            smoothing=0.1,
        )
        self._thread = threading.Thread(target=self._poll, name="sim-sweep-progress", daemon=True)
        self._thread.start()

    def _update(self) -> None:
        n = count_complete(self.sweep_dir)
        if self.total is not None:
            n = min(n, self.total)
        if n > self.n:
            self.bar.update(n - self.n)
            self.n = n

    def _poll(self) -> None:
        wait = self.interval
        while not self._stop.wait(wait):
            t0 = time.perf_counter()
            self._update()
            # a huge sweep directory takes a while to list: never spend more than ~10% of the time on it
            wait = max(self.interval, 10 * (time.perf_counter() - t0))

    def close(self) -> int:
        """Stop polling, draw the final count; returns the number of complete runs."""
        self._stop.set()
        self._thread.join(timeout=10)
        self._update()
        self.bar.close()
        return self.n
