"""A figure process: a single run's figure drawn by a second process that imported matplotlib meanwhile.

A default run of the command line spends about a second on its figure: 0.35-0.4 s importing matplotlib
and 0.6-0.8 s drawing and writing the PNG (2-core AMD EPYC, warm numba cache, a ~4 s command), on one
core while the machine's second core idles. The command line starts this process at its very start
(`spawn`: `python -m sim.run.drawer`, beside the compile partner if there is one); it imports
matplotlib and the figure's code while the run imports, composes and steps, then waits. When the run
has recorded its last step it sends the records (`Drawer.draw`) and goes on writing its other outputs
while the figure is drawn; before the summary and the completion marker it waits for the figure
(`Drawer.wait`) and renames it into place. The figure is drawn by the same function, from the same
records, as in the run's own process (`sim.run.figure.draw_figure`): the same bytes.

The drawer writes only a temporary file (`.figure.png.drawn.tmp`, which a failed run's clean-up removes
as it does every temporary file), never the figure itself: the run renames it, so a run that fails or
is killed after sending its records leaves no figure under the final name. If the drawer cannot
draw (it died, or drawing failed), the run draws the figure itself, as it does without a drawer.

Started only where it costs nothing and helps: a single run of the command line (a sweep's workers
have matplotlib imported already, and their cores are busy), two usable CPUs or more. It exits after
one figure, or as soon as the run closes its pipe. `SIM_FIGURE_PROCESS=off` turns it off.
"""

from __future__ import annotations

import os
import pickle
import select
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ENV = "SIM_FIGURE_PROCESS"
#: How long the run waits for the figure before drawing it itself (a default run's takes under a second)
WAIT_S = 120.0
#: the drawer's file in the run's directory until the run renames it to figure.png (a `.*.tmp` name: a
#: failed run's clean-up, `sim.run.completion.discard`, removes it)
DRAWN = ".figure.png.drawn.tmp"


@dataclass
class Records:
    """What the figure is drawn from (`sim.run.recorder.MetricsRecorder`'s series), as plain picklable data."""

    steps: list[int]
    series: dict[str, list[float]]
    histograms: list[Any]
    by_profession: dict[str, dict[str, list[float]]]

    @classmethod
    def of(cls, rec: Any) -> Records:
        return cls(list(rec.steps), dict(rec.series), list(rec.histograms), dict(rec.by_profession))


class Drawer:
    """The figure process: `draw` sends it a run's records, `wait` returns when the figure is drawn."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self._drawn: Path | None = None

    def draw(self, rec: Any, out: Path, title: str) -> bool:
        """Send the records of a run writing into `out`; False if they could not be sent (the drawer is gone)."""
        drawn = out / DRAWN
        try:
            assert self.proc.stdin is not None
            pickle.dump((Records.of(rec), str(drawn), title), self.proc.stdin)
            self.proc.stdin.close()  # one figure: the drawer reads to the end
        except (OSError, ValueError, pickle.PicklingError):
            self.close()
            return False
        self._drawn = drawn
        return True

    def wait(self, path: Path) -> bool:
        """Wait for the figure sent by `draw`; True once it is at `path`, False if the drawer did not draw it."""
        drawn, self._drawn = self._drawn, None
        if drawn is None:
            return False
        assert self.proc.stdout is not None
        try:
            ready, _, _ = select.select([self.proc.stdout], [], [], WAIT_S)
            answer = self.proc.stdout.readline() if ready else b""
        except (OSError, ValueError):
            answer = b""
        if not answer:  # gone, or drawing for longer than any figure takes: the run draws it instead
            self._drawn = drawn
            self.close()
            return False
        self.proc.wait()
        if answer.strip() != b"ok" or not drawn.is_file():
            drawn.unlink(missing_ok=True)
            return False
        os.replace(drawn, path)
        return True

    def close(self) -> None:
        """End the drawer now (the run failed, or draws no figure); it writes nothing after this returns."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self._drawn is not None:
            self._drawn.unlink(missing_ok=True)
            self._drawn = None


_spawned: Drawer | None = None  # started by spawn(), taken by take()


def spawn(argv: list[str]) -> None:
    """Start the figure process at the command line's start, if this command is a single run with a spare CPU."""
    global _spawned
    from sim.run import beside

    if _spawned is not None or not beside.wanted(argv, ENV):
        return
    proc = beside.start("sim.run.drawer", answers=True)
    if proc is not None:  # else the run draws its figure itself
        _spawned = Drawer(proc)


def take() -> Drawer | None:
    """The figure process `spawn` started (once), or None."""
    global _spawned
    drawer, _spawned = _spawned, None
    return drawer


def main(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The drawer's side: import, wait for a run's records, draw its figure into the file named, answer ok."""
    from sim.run.figure import draw_figure

    try:
        rec, drawn, title = pickle.load(stdin)
    except EOFError:  # the run draws no figure, failed or ended
        return
    try:
        draw_figure(rec, drawn, title)
    except Exception as err:  # the run draws it itself, and meets the error itself if it is one
        stdout.write(f"error {type(err).__name__}\n".encode())
    else:
        stdout.write(b"ok\n")
    stdout.flush()


if __name__ == "__main__":
    main(sys.stdin.buffer, sys.stdout.buffer)
