"""The completion marker of a run: written last and atomically, it is what makes a run directory complete.

`sim.run.runner.run` removes a run directory's marker (and temporary files a killed run left) before it
writes anything, moves the outputs of an older run aside (`superseded`), and writes `_complete.json`
after every output, `summary.json` included. The marker fingerprints what the run read and what it
wrote: the digest of its config, the sha256 of the content of every input file (an edge list), the
digest of the code that makes a run's outputs (`code_digest`), and the size and sha256 of every output
file; with them the run's typed config, the Hydra overrides that made it, start and end times.

A run directory counts as complete for a config only if its marker parses, its config, input and code
digests are those of this config now, and every listed file is there with its size and its sha256
(`verify`): a resumed sweep redoes a run whose input file changed, whose code changed or whose outputs
were altered. A half-written file is never under its final name (`sim.run.io`), and a run killed at
any point has no marker. Sweeps skip complete runs (`sim.cli`) and `sim.studies.collect` reads only
complete runs, and fails (instead of writing stale tables) when a run's marker no longer matches its files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import os
import platform
import socket
import time
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.config.params import Config
from sim.run.io import write_json

MARKER = "_complete.json"
FAILED = "_failed.json"  # a run of a sweep that failed: its one-line error (sim.cli, sim.studies.callbacks)
SUPERSEDED = ".superseded"  # where the outputs of an older complete run are moved when a new one starts
# the packages whose code makes a run's outputs (a change to any of them redoes a resumed run)
RUN_CODE = ("config", "core", "step", "metrics", "model", "run", "classics")
_HASH_CHUNK = 1 << 20
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


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's content, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


@functools.cache
def code_digest() -> str:
    """sha256 of the source of the packages that make a run's outputs (RUN_CODE), and of the package version."""
    from importlib.metadata import PackageNotFoundError, version

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    try:
        h.update(version("resocialization-sim").encode())
    except PackageNotFoundError:
        pass
    for sub in RUN_CODE:
        for path in sorted((root / sub).glob("*.py")):
            h.update(f"{sub}/{path.name}".encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def input_files(cfg: Config) -> list[str]:
    """The files a run of `cfg` reads (the network file of network=edgelist, and its node table if any)."""
    if cfg.network.kind != "edgelist":
        return []
    return [path for path in (cfg.network.path, cfg.network.nodes) if path]


def input_digests(cfg: Config) -> dict[str, str]:
    """{path: sha256 of its content} of every input file (a missing or unreadable file: "unreadable")."""
    out = {}
    for path in input_files(cfg):
        try:
            out[path] = file_sha256(path)
        except OSError:
            out[path] = "unreadable"
    return out


def verify(out_dir: str | os.PathLike, marker: dict[str, Any], hashed: Collection[str] | None = None) -> str | None:
    """None if every file the marker lists is there with its size and sha256; else what does not match.

    `hashed`: only these files' content is hashed (the others are checked by size): a reader that opens
    only some files (the collection reads metrics.parquet and summary.json, never agent snapshots that
    may be gigabytes) verifies what it reads. Resume (`stale_reason`) hashes every file.
    """
    out = Path(out_dir)
    files = marker.get("files")
    if not isinstance(files, dict) or not files:
        return "the marker lists no files"
    for name, entry in files.items():
        if not isinstance(entry, dict) or "sha256" not in entry or "size" not in entry:
            return f"{name}: the marker has no content hash (written by an older version)"
        path = out / name
        try:
            if path.stat().st_size != entry["size"]:
                return f"{name}: size differs from the marker's"
            if (hashed is None or name in hashed) and file_sha256(path) != entry["sha256"]:
                return f"{name}: content differs from the marker's (sha256)"
        except OSError as err:
            return f"{name}: {err.strerror or err}"
    return None


def load_marker(out_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The parsed marker of `out_dir`, unverified (None: absent or unreadable)."""
    try:
        marker = json.loads((Path(out_dir) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def read_marker(out_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The marker of a complete run directory whose files match it, or None (absent, unreadable, altered)."""
    marker = load_marker(out_dir)
    if marker is None or verify(out_dir, marker) is not None:
        return None
    return marker


def stale_reason(out_dir: str | os.PathLike, cfg: Config) -> str | None:
    """None if `out_dir` holds a complete, intact run of exactly this config, inputs and code; else why not."""
    marker = load_marker(out_dir)
    return "no completion marker" if marker is None else _mismatch(out_dir, marker, cfg)


def _mismatch(out_dir: str | os.PathLike, marker: dict[str, Any], cfg: Config) -> str | None:
    if marker.get("config_sha256") != config_digest(cfg):
        return "the config differs"
    if marker.get("inputs") != input_digests(cfg):
        return "an input file changed"
    if marker.get("code_sha256") != code_digest():
        return "the code changed"
    return verify(out_dir, marker)


def completed(out_dir: str | os.PathLike, cfg: Config) -> dict[str, Any] | None:
    """The marker if `out_dir` holds a complete run of exactly this config, inputs and code, else None."""
    marker = load_marker(out_dir)
    return marker if marker is not None and _mismatch(out_dir, marker, cfg) is None else None


OUTPUT_GLOBS = ("*.parquet", "summary.json", "figure.png")


def _set_aside(out: Path) -> None:
    """Move an older complete run's outputs and marker into `.superseded/<its end time>/`.

    Only a run whose marker matches its files counts; anything else left (a killed run's partial outputs,
    or outputs whose marker no longer matches them) is not a result, and `begin` deletes it (`discard`).
    """
    marker = load_marker(out)
    if marker is None or verify(out, marker) is not None:
        return
    stamp = str(marker.get("ended", _now())).replace(":", "-")
    dest = out / SUPERSEDED / stamp
    dest.mkdir(parents=True, exist_ok=True)
    for p in [*(p for pattern in OUTPUT_GLOBS for p in out.glob(pattern) if p.is_file()), out / MARKER]:
        os.replace(p, dest / p.name)
    log.warning("older complete run in %s moved to %s", out, dest)


def discard(out: Path) -> None:
    """Remove the outputs of a run that failed (after `begin` set older ones aside, every one is its own)."""
    for pattern in OUTPUT_GLOBS:
        for p in out.glob(pattern):
            p.unlink(missing_ok=True)
    for stale in out.glob(".*.tmp"):
        stale.unlink(missing_ok=True)


def begin(out: Path, cfg: Config, inputs: dict[str, str] | None = None) -> dict[str, Any]:
    """Clear the directory for a new run (older outputs set aside, temporary files removed) and log the start.

    `inputs`: the digests of the input files taken before the model read them (`input_digests`).
    """
    _set_aside(out)
    for name in (MARKER, FAILED):
        (out / name).unlink(missing_ok=True)
    discard(out)  # what is left is not a result: partial outputs, temporary files
    info = {
        "started": _now(),
        "t0": time.perf_counter(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "inputs": input_digests(cfg) if inputs is None else inputs,
    }
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
        "files": {name: {"size": (out / name).stat().st_size, "sha256": file_sha256(out / name)} for name in files},
        "inputs": info["inputs"],
        "code_sha256": code_digest(),
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
