"""One line on the terminal while numba compiles the model's kernels, so that the pause is never silent.

The kernels are compiled the first time a run needs them after the package was installed or its code
changed (about half a minute on a 2-core machine), then read from numba's on-disk cache (about a second).
numba fires its `numba:compile` event only when it compiles (a cache hit does not), so the line appears
exactly when there is something to wait for, once per process.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from numba.core import event

MESSAGE = (
    "compiling the model's kernels (numba): the first run after installing or changing the code takes "
    "about half a minute; later runs read them from the cache"
)
READY = "the model's kernels are compiled"
_lock = threading.Lock()
_listener: _Announce | None = None  # registered once per process


class _Announce(event.Listener):
    def __init__(self, stream: TextIO) -> None:
        self.stream, self.said = stream, False

    def on_start(self, ev: event.Event) -> None:
        with _lock:
            if self.said:
                return
            self.said = True
        print(MESSAGE, file=self.stream, flush=True)

    def on_end(self, ev: event.Event) -> None:
        pass


def announce_compilation(stream: TextIO | None = None, terminal_only: bool = True) -> None:
    """Print MESSAGE on `stream` (stderr) at the first compilation of this process; on a terminal only by default."""
    global _listener
    stream = stream if stream is not None else sys.stderr
    if terminal_only and not stream.isatty():
        return
    with _lock:
        if _listener is not None:
            return
        _listener = _Announce(stream)
    event.register("numba:compile", _listener)


def compiled() -> bool:
    """Whether this process has compiled anything since `announce_compilation` registered its line."""
    return _listener is not None and _listener.said
