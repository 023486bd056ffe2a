"""The completion marker of a run: written last and atomically, it is what makes a run directory complete.

`sim.run.runner.run` removes a run directory's marker (and temporary files a killed run left) before it
writes anything, and writes `_complete.json` after every output, `summary.json` included. The marker
holds the digest of the run's config, the size of every output file, the run's typed config and the
Hydra overrides that made it, start and end times. A run directory counts as complete for a config
only if its marker parses, its digest is that config's digest and every listed file is there with its
size: a half-written file is never under its final name (`sim.run.io`), and a run killed at any point has
no marker. Sweeps skip complete runs (`sim.cli`) and `sim.studies.collect` reads only complete runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import platform
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.config.params import Config
from sim.run.io import write_json

MARKER = "_complete.json"
# keys that change how a run is shown, not what it writes: a different value does not redo a run
NOT_IN_DIGEST = (("output", "progress"), ("mesa_agents",))
log = logging.getLogger("sim.run")


def config_dict(cfg: Config) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def config_digest(cfg: Config) -> str:
    """sha256 of the config, less the keys of NOT_IN_DIGEST."""
    d = config_dict(cfg)
    for path in NOT_IN_DIGEST:
        node = d
        for part in path[:-1]:
            node = node[part]
        node.pop(path[-1], None)
    text = json.dumps(d, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def read_marker(out_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The marker of a complete run directory, or None (absent, unreadable, or files missing)."""
    out = Path(out_dir)
    try:
        marker = json.loads((out / MARKER).read_text())
        files = marker["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for name, size in files.items():
        try:
            if (out / name).stat().st_size != size:
                return None
        except OSError:
            return None
    return marker


def completed(out_dir: str | os.PathLike, cfg: Config) -> dict[str, Any] | None:
    """The marker if `out_dir` holds a complete run of exactly this config, else None."""
    marker = read_marker(out_dir)
    if marker is None or marker.get("config_sha256") != config_digest(cfg):
        return None
    return marker


def begin(out: Path, cfg: Config) -> dict[str, Any]:
    """Invalidate the directory (marker first, then stale temporary files) and log the start."""
    (out / MARKER).unlink(missing_ok=True)
    for stale in out.glob(".*.tmp"):
        stale.unlink(missing_ok=True)
    info = {"started": _now(), "t0": time.perf_counter(), "host": socket.gethostname(), "pid": os.getpid()}
    log.info(
        "run start: %s, seed %d, %d agents, %d steps, config %s, host %s, pid %d",
        out,
        cfg.seed,
        cfg.n_agents,
        cfg.steps,
        config_digest(cfg)[:12],
        info["host"],
        info["pid"],
    )
    return info


def finish(
    out: Path, cfg: Config, info: dict[str, Any], files: list[str], meta: dict[str, Any] | None
) -> dict[str, Any]:
    """Write the marker, last; returns it."""
    wall = round(time.perf_counter() - info["t0"], 3)
    marker = {
        "complete": True,
        "config_sha256": config_digest(cfg),
        "seed": cfg.seed,
        "started": info["started"],
        "ended": _now(),
        "wall_time_s": wall,
        "host": info["host"],
        "pid": info["pid"],
        "python": platform.python_version(),
        "files": {name: (out / name).stat().st_size for name in files},
        "config": config_dict(cfg),
        "hydra": meta or {},
    }
    write_json(out / MARKER, marker)
    log.info("run end: %s, wall time %.3f s", out, wall)
    return marker


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit BLAS (OpenBLAS, MKL) to one thread inside the block (threadpoolctl, a dependency)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # results may then differ in the last bits between machines and launchers
        log.warning("threadpoolctl is not installed: BLAS threads are not limited")
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
