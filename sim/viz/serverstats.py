"""What the teaching app's server spends per session and per step, for the classroom load test.

With the environment variable `SIM_VIZ_STATS=FILE` set when the server starts, it appends one JSON line
per event to FILE (nothing is recorded otherwise):

- `{"event": "open", "session": ID, "t": ..., "rss_mb": ...}` when a browser session (a Solara
  kernel) starts, and `{"event": "close", ...}` when it is released (tab closed, or culled after the
  page went away: `python -m sim.viz` culls after `--release` seconds);
- `{"event": "gc", "generation": G, "ms": ..., "collected": N}` per garbage collection longer than 20 ms
  (a pause of every session at once);
- `{"event": "step", "session": ID, "step": N, "ms": ...}` per step: the server's wall time from the start
  of the step to the end of the render that sends the update to the browser (the model's step, the
  history, the plots' and the network's data, the widget messages). Rendering in the browser is not in
  it: that is the browser's own work, on the student's machine.

The lines are written with one `write` of a short line to a file opened for appending, so the threads of
the sessions never interleave within a line.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

ENV = "SIM_VIZ_STATS"
_lock = threading.Lock()


def stats_file() -> Path | None:
    value = os.environ.get(ENV, "")
    return Path(value) if value else None


def rss_mb() -> float | None:
    """Resident memory of the server process in MB (Linux), or None where /proc is not there."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 1e6, 1)


def record(event: str, **fields) -> None:
    path = stats_file()
    if path is None:
        return
    line = json.dumps({"event": event, "t": round(time.time(), 4), **fields}) + "\n"
    with _lock, open(path, "a", encoding="utf-8") as f:
        f.write(line)


def session_id() -> str:
    """The current Solara kernel's id (a browser session), or 'none' outside one."""
    try:
        from solara.server import kernel_context

        return str(kernel_context.get_current_context().id)
    except Exception:  # outside a kernel context (tests, warm-up)
        return "none"


_gc_started: list[float] = []


def _gc_callback(phase: str, info: dict) -> None:
    if phase == "start":
        _gc_started[:] = [time.perf_counter()]
    elif _gc_started:
        ms = (time.perf_counter() - _gc_started[0]) * 1000
        if ms > 20:
            record("gc", generation=info.get("generation"), ms=round(ms, 1), collected=info.get("collected"))


def watch_gc() -> None:
    """Record long garbage collections (once per process, only with SIM_VIZ_STATS set)."""
    import gc

    if stats_file() is not None and _gc_callback not in gc.callbacks:
        gc.callbacks.append(_gc_callback)


def on_session_start():
    """Solara's kernel-start callback: record the session, and its release when Solara closes it."""
    if stats_file() is None:
        return None
    watch_gc()
    sid = session_id()
    record("open", session=sid, rss_mb=rss_mb())

    def closed() -> None:
        record("close", session=sid, rss_mb=rss_mb())

    return closed


def step_done(model) -> None:
    """Called once the update of a step has been rendered: the server's time for that step."""
    started = getattr(model, "step_started", None)
    if started is None or stats_file() is None:
        return
    model.step_started = None
    record("step", session=session_id(), step=int(model.state.t), ms=round((time.perf_counter() - started) * 1000, 2))
