"""What the virtual studies observe: one tidy row per (run, period, professional) of effect-ledger gains.

The effect ledger (ODD 7.13) keeps five cumulative counters per agent; agents.parquet holds them at
every snapshot (`ledger_<name>`, one snapshot every `output.snapshot_every` steps). A study observes one
period of the calendar, and what a professional experienced in it is the counters' gain over it:

- step t (t = 1, 2, ...) runs at exposure E(t), so the surge's steps are t = start, ..., start + length - 1;
- `before` is steps 1 .. start - 1, `during` steps start .. start + length - 1, `after` the rest up to
  the last step; the gain over steps a + 1 .. b is the snapshot at b minus the snapshot at a, so the
  boundaries are the snapshots at steps 0, start - 1, start + length - 1 and the last step (with the
  default shock, 0, 49, 109, 200: `output.snapshot_every=1` has them). A period with no step is left out.

The periods are windows of the calendar given by `exposure.start` and `exposure.length` whatever the
exposure schedule: in a run with constant exposure they are the same windows without a surge (a
counterfactual literature without the pandemic, observed over windows of the same lengths), so the
window length never confounds a comparison of a surge with its absence.

`load_effects(DIR)` reads a run directory or a sweep directory (its complete runs); `effects_from_snapshots`
builds the same table from counters held in memory, and `effects_from_model` runs a model in memory and
returns its table (what a calibration calls).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.config.errors import InputError
from sim.config.params import PROFESSIONS, Config
from sim.core.state import LEDGER, LEDGER_NEGATIVE, LEDGER_POSITIVE
from sim.review.observation import PERIODS
from sim.run.completion import read_marker

COLUMNS = ("run", "scenario", "seed", "period", "agent_id", "group", "profession", "positive", "negative", *LEDGER)
RUN_HINT = "a run directory (with _complete.json) or a sweep directory of complete runs"


def period_bounds(start: int, length: int, steps: int) -> dict[str, tuple[int, int]]:
    """Each non-empty period as (a, b): its gains are the counters at step b minus those at step a."""
    first = min(max(start - 1, 0), steps)
    last = min(max(start + length - 1, first), steps)
    bounds = {"before": (0, first), "during": (first, last), "after": (last, steps)}
    return {k: v for k, v in bounds.items() if v[1] > v[0]}


def needed_steps(start: int, length: int, steps: int) -> list[int]:
    """The snapshot steps the periods need (0, start - 1, start + length - 1 and the last, clipped)."""
    return sorted({s for ab in period_bounds(start, length, steps).values() for s in ab} | {0, steps})


def _lacking(where: str, missing: list[int], start: int, length: int, steps: int) -> InputError:
    need = needed_steps(start, length, steps)
    return InputError(
        f"{where} has no snapshot at step {', '.join(map(str, missing))}; needed: steps {', '.join(map(str, need))} "
        f"(the period boundaries of exposure.start={start}, exposure.length={length}, steps={steps}); "
        "allowed: runs with output.snapshot_every=1 (or a divisor of every boundary)"
    )


def effects_from_snapshots(
    snapshots: Mapping[int, Mapping[str, np.ndarray]],
    profession: np.ndarray | Sequence[Any],
    group: np.ndarray | Sequence[int],
    start: int,
    length: int,
    steps: int,
    *,
    agent_id: np.ndarray | None = None,
    run: str = "0",
    scenario: str = "",
    seed: int = 0,
) -> pd.DataFrame:
    """The effects table of one run from its ledger counters at the period boundaries.

    `snapshots[step][counter]` is the cumulative counter of every agent after `step` steps (the keys
    of `sim.core.state.LEDGER`; at least the steps of `needed_steps(start, length, steps)`);
    `profession` holds codes (0 social work, 1 health care) or names; `group` the group of each agent.
    """
    missing = [s for s in needed_steps(start, length, steps) if s not in snapshots]
    if missing:
        raise _lacking("the snapshots", missing, start, length, steps)
    prof = np.asarray(profession)
    if prof.dtype.kind in "iu":
        if len(prof) and (prof.min() < 0 or prof.max() >= len(PROFESSIONS)):
            raise InputError(f"invalid profession codes {sorted(set(prof.tolist()))}; allowed: 0, 1")
        prof = np.asarray(PROFESSIONS, dtype=object)[prof]
    n = len(prof)
    ids = np.arange(n, dtype=np.int64) if agent_id is None else np.asarray(agent_id, dtype=np.int64)
    grp = np.asarray(group, dtype=np.int64)
    frames = []
    for period, (a, b) in period_bounds(start, length, steps).items():
        gains = {k: snapshots[b][k].astype(np.int64) - snapshots[a][k].astype(np.int64) for k in LEDGER}
        frames.append(
            pd.DataFrame(
                {
                    "run": run,
                    "scenario": scenario,
                    "seed": np.full(n, seed, dtype=np.int64),
                    "period": period,
                    "agent_id": ids,
                    "group": grp,
                    "profession": prof,
                    "positive": sum((gains[k] for k in LEDGER_POSITIVE), np.zeros(n, np.int64)),
                    "negative": sum((gains[k] for k in LEDGER_NEGATIVE), np.zeros(n, np.int64)),
                    **gains,
                }
            )
        )
    if not frames:
        return empty_effects()
    return pd.concat(frames, ignore_index=True)


def empty_effects() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype=object if c in ("run", "scenario", "period", "profession") else np.int64) for c in COLUMNS}
    )


def effects_from_model(cfg: Config, run: str | None = None) -> pd.DataFrame:
    """Run the model of `cfg` in memory (no files) and return its effects table.

    Keeps only the ledger at the period boundaries; `run` names the run (default `seed<seed>`).
    """
    from sim.model import ResocializationModel

    cfg = dataclasses.replace(cfg, mesa_agents="never")
    model = ResocializationModel(cfg, collect=False)
    ex, state = cfg.exposure, model.state
    want = set(needed_steps(ex.start, ex.length, cfg.steps))
    snaps: dict[int, dict[str, np.ndarray]] = {}
    if 0 in want:
        snaps[0] = {k: state.ledger[k].copy() for k in LEDGER}
    for t in range(1, cfg.steps + 1):
        model.step()
        if t in want:
            snaps[t] = {k: state.ledger[k].copy() for k in LEDGER}
    return effects_from_snapshots(
        snaps,
        state.profession,
        state.group,
        ex.start,
        ex.length,
        cfg.steps,
        run=run if run is not None else f"seed{cfg.seed}",
        scenario=cfg.scenario.name,
        seed=cfg.seed,
    )


def find_runs(path: str | Path) -> tuple[list[tuple[str, Path, dict[str, Any]]], int]:
    """(run id, run dir, completion marker) of the complete runs under `path`, and how many are incomplete.

    `path` is one run directory (its marker) or a sweep directory (its subdirectories); the run id is
    the subdirectory's name (the run directory's own name for a single run).
    """
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"not a directory: {root}; allowed: {RUN_HINT}")
    marker = read_marker(root)
    if marker is not None:
        return [(root.name, root, marker)], 0
    runs, incomplete = [], 0
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        m = read_marker(d)
        if m is not None:
            runs.append((d.name, d, m))
        elif (d / ".hydra").is_dir() or any(d.glob("*.parquet")):
            incomplete += 1
    return runs, incomplete


def read_run(run_dir: Path, marker: dict[str, Any], run: str) -> pd.DataFrame:
    """The effects table of one complete run directory (its agents.parquet at the period boundaries)."""
    cfg = marker.get("config") or {}
    ex = cfg.get("exposure") or {}
    start, length = int(ex.get("start", 0)), int(ex.get("length", 0))
    steps = int(cfg.get("steps", 0))
    summary = run_dir / "summary.json"
    if summary.exists():  # a classic preset may stop before `steps`
        steps = int(json.loads(summary.read_text()).get("stopped_at_step", steps))
    path = run_dir / "agents.parquet"
    if not path.exists():
        raise InputError(f"missing file {path}; allowed: {RUN_HINT}")
    need = needed_steps(start, length, steps)
    columns = ["step", "agent_id", "group", "profession", *(f"ledger_{k}" for k in LEDGER)]
    table = pq.read_table(path, columns=columns, filters=[("step", "in", need)]).to_pandas()
    table["profession"] = table["profession"].astype(str)
    have = set(table["step"].unique().tolist())
    missing = [s for s in need if s not in have]
    if missing:
        raise _lacking(str(path), missing, start, length, steps)
    table = table.sort_values(["step", "agent_id"], kind="stable")
    by_step = {int(s): df for s, df in table.groupby("step", sort=True)}
    first = by_step[need[0]]
    snaps = {s: {k: df[f"ledger_{k}"].to_numpy() for k in LEDGER} for s, df in by_step.items()}
    return effects_from_snapshots(
        snaps,
        first["profession"].to_numpy(dtype=object),
        first["group"].to_numpy(),
        start,
        length,
        steps,
        agent_id=first["agent_id"].to_numpy(),
        run=run,
        scenario=str((cfg.get("scenario") or {}).get("name", "")),
        seed=int(cfg.get("seed", marker.get("seed", 0))),
    )


def load_effects(path: str | Path) -> pd.DataFrame:
    """The effects table of a run directory or of every complete run of a sweep directory."""
    runs, incomplete = find_runs(path)
    if not runs:
        raise InputError(f"no complete run in {path} ({incomplete} incomplete); allowed: {RUN_HINT}")
    frames = [read_run(d, m, run) for run, d, m in runs]
    return pd.concat(frames, ignore_index=True)


__all__ = [
    "COLUMNS",
    "PERIODS",
    "effects_from_model",
    "effects_from_snapshots",
    "find_runs",
    "load_effects",
    "needed_steps",
    "period_bounds",
    "read_run",
]
