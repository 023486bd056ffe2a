"""Docking the full model to the classics (Axtell, Axelrod, Epstein & Cohen 1996): configs, runs, the measurement.

`docking_config("deffuant", "docking.d=0.2")` composes exactly the config of `python -m sim
docking=deffuant docking.d=0.2` (conf/docking/NAME.yaml: the full model with every mechanism but peer
messages and social judgment off, the classic's parameters mapped onto the full model's keys);
`run_docked(cfg)` steps the full model `cfg.steps` steps without writing outputs. Set `docking.*`
through the overrides, never on the typed config: the mapping onto `influence.*` is resolved when the
config is composed.

    python -m sim.studies.docking [--quick]

runs each classic's own rule (`preset=NAME`, `sim.studies.classics.run_classic`) and the full model
docked to it (`docking=NAME`) at the same parameters, agents and seeds, and prints the tables of
docs/classics.md, "Docking": major clusters against d (Deffuant), consensus against epsilon
(Hegselmann-Krause) and the (U, T) regime map (Jager-Amblard), with the equivalence measured on each.
"""

from __future__ import annotations

import argparse
import copy
import functools
import sys
import time
from collections.abc import Iterable
from typing import cast

import numpy as np

from sim.config.compose import compose
from sim.config.params import Config
from sim.metrics.regime import ja_regime, regime_summary


@functools.lru_cache(maxsize=256)
def _composed(name: str, overrides: tuple[str, ...]) -> Config:
    return compose([f"docking={name}", *overrides])


def docking_config(name: str, *overrides: str) -> Config:
    """The config of `python -m sim docking=NAME *overrides` (a fresh copy)."""
    return copy.deepcopy(_composed(name, tuple(overrides)))


def run_docked(cfg: Config) -> np.ndarray:
    """The final stances of the full model run `cfg.steps` steps (no outputs written)."""
    from sim.model import ResocializationModel

    cfg = copy.deepcopy(cfg)
    cfg.mesa_agents = "never"
    model = ResocializationModel(cfg, collect=False)
    for _ in range(cfg.steps):
        model.step()
    return model.state.stance.copy()


# --------------------------------------------------------------------------- the measurement


def _classic(name: str, n: int, seed: int, steps: int, **values: float) -> tuple[Config, np.ndarray]:
    from sim.studies.classics import preset_config, run_classic

    cfg = preset_config(name, f"n_agents={n}", f"steps={steps}", f"seed={seed}")
    for key, value in values.items():
        setattr(cfg.preset, key, value)
    return cfg, run_classic(cfg).stance


def _docked(name: str, n: int, seed: int, steps: int, **values: float) -> tuple[Config, np.ndarray]:
    ov = [f"n_agents={n}", f"steps={steps}", f"seed={seed}", *(f"docking.{k}={v}" for k, v in values.items())]
    cfg = docking_config(name, *ov)
    return cfg, run_docked(cfg)


def _majors(cfg: Config, stance: np.ndarray) -> int:
    return int(cast(int, regime_summary(stance, cfg.metrics)["n_major_clusters"]))


def _paired_difference(docked: list[int], classic: list[int]) -> str:
    """Docked minus classic cluster count, mean of the differences by seed [95% Monte Carlo interval]."""
    from sim.studies.experiments import ci_text, mean_ci

    d = np.asarray(docked, dtype=float) - np.asarray(classic, dtype=float)
    return ci_text(*mean_ci(d), digits=2)


def _counts(values: list[int]) -> str:
    return f"{np.mean(values):.1f} ({min(values)}-{max(values)})"


def deffuant_table(ds: Iterable[float], n: int, seeds: range, steps: int) -> list[str]:
    """Major clusters against d: Deffuant's rule and the docked full model; the docked HK runs alike."""
    rows = [
        "| d | 1/(2d) | preset=deffuant | docking=deffuant | docked - classic [95% MC interval] "
        "| docking=hegselmann_krause, epsilon = d |",
        "|---|---|---|---|---|---|",
    ]
    for d in ds:
        classic, docked, hk_same = [], [], True
        for seed in seeds:
            cfg, x = _classic("deffuant", n, seed, steps * 20, d=d, mu=0.5)
            classic.append(_majors(cfg, x))
            cfg, y = _docked("deffuant", n, seed, steps, d=d, mu=0.5)
            docked.append(_majors(cfg, y))
            _, z = _docked("hegselmann_krause", n, seed, steps, epsilon=d)
            hk_same = hk_same and bool(np.array_equal(y, z))
        same = "the same stances, bit for bit" if hk_same else "DIFFERENT"
        rows.append(
            f"| {d:g} | {1 / (2 * d):.2f} | {_counts(classic)} | {_counts(docked)} | "
            f"{_paired_difference(docked, classic)} | {same} |"
        )
    return rows


def _crossing(xs: list[float], ps: list[float], level: float = 0.5) -> float:
    """First x where the (increasing) curve reaches `level`, linearly interpolated."""
    k = next((i for i, p in enumerate(ps) if p >= level), len(ps) - 1)
    if k == 0 or ps[k] < level:
        return xs[k]
    return xs[k - 1] + (level - ps[k - 1]) * (xs[k] - xs[k - 1]) / (ps[k] - ps[k - 1])


def hk_table(epsilons: list[float], n: int, seeds: range, steps: int) -> list[str]:
    """P(consensus) against epsilon: HK's rule and the docked full model, with the 50% points."""
    rows = ["| epsilon | preset=hegselmann_krause | docking=hegselmann_krause |", "|---|---|---|"]
    pc, pd_ = [], []
    for eps in epsilons:
        c = [_majors(*_classic("hegselmann_krause", n, s, 1000, epsilon=eps)) == 1 for s in seeds]
        d = [_majors(*_docked("hegselmann_krause", n, s, steps, epsilon=eps)) == 1 for s in seeds]
        pc.append(float(np.mean(c)))
        pd_.append(float(np.mean(d)))
        rows.append(f"| {eps:g} | {pc[-1]:.2f} | {pd_[-1]:.2f} |")
    rows.append(f"| 50% point | {_crossing(epsilons, pc):.3f} | {_crossing(epsilons, pd_):.3f} |")
    return rows


def ja_maps(n: int, seeds: range, steps: int) -> list[str]:
    """The (U, T) regime map of Jager-Amblard's rule (one way) and of the docked full model, cell by cell."""
    us = [round(0.1 * i, 1) for i in range(1, 11)]
    ts = [round(0.2 * i, 1) for i in range(1, 11)]
    classic: dict[tuple[float, float], str] = {}
    docked: dict[tuple[float, float], str] = {}
    for u in us:
        for t in ts:
            if t < u:
                continue
            classic[u, t] = "".join(
                ja_regime(x, c.metrics) for c, x in (_classic("jager_amblard", n, s, steps, U=u, T=t) for s in seeds)
            )
            docked[u, t] = "".join(
                ja_regime(x, c.metrics) for c, x in (_docked("jager_amblard", n, s, steps, U=u, T=t) for s in seeds)
            )
    width = max(len(seeds), 3) + 2
    out = []
    for title, cells in (("preset=jager_amblard (one way)", classic), ("docking=jager_amblard", docked)):
        out += [title, "", "    T \\ U  " + "".join(f"{u:>{width}}" for u in us)]
        for t in reversed(ts):
            out.append(f"    {t:<6.1f} " + "".join(f"{cells[u, t]:>{width}}" for u in us if (u, t) in cells))
        out.append("")
    same = [k for k in classic if sorted(classic[k]) == sorted(docked[k])]
    letters = sum(a == b for k in classic for a, b in zip(sorted(classic[k]), sorted(docked[k]), strict=True))
    both = [k for k in classic if _majority(classic[k]) and _majority(docked[k])]
    agree = sum(_majority(classic[k]) == _majority(docked[k]) for k in both)
    differ = ", ".join(f"({u:g}, {t:g}): {classic[u, t]} / {docked[u, t]}" for u, t in classic if (u, t) not in same)
    out += [
        f"cells with the same letters (in any order): {len(same)} of {len(classic)}; seed-letters that agree: "
        f"{letters} of {len(classic) * len(seeds)}; the majority regime agrees in {agree} of the {len(both)} "
        "cells where both maps have one",
        f"cells that differ (U, T): classic / docked: {differ or 'none'}",
    ]
    return out


def _majority(letters: str) -> str:
    """The regime of more than half the seeds ("" if none)."""
    return next((c for c in sorted(set(letters)) if 2 * letters.count(c) > len(letters)), "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.studies.docking", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer agents, seeds and points (a check, not the doc)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.quick:
        sizes = {"df": (100, range(2)), "hk": (100, range(2)), "ja": (60, range(1))}
        ds, epsilons = [0.1, 0.3], [0.15, 0.35]
    else:
        sizes = {"df": (500, range(10)), "hk": (500, range(10)), "ja": (300, range(3))}
        ds = [0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]
        epsilons = [0.15, 0.17, 0.19, 0.21, 0.23, 0.25, 0.27, 0.29, 0.31, 0.33, 0.35]
    n, seeds = sizes["df"]
    print(f"Deffuant (complete graph, N = {n}, mu = 0.5, seeds {seeds.start}-{seeds.stop - 1}; major clusters)\n")
    print("\n".join(deffuant_table(ds, n, seeds, 300)) + "\n", flush=True)
    n, seeds = sizes["hk"]
    print(f"Hegselmann-Krause (complete graph, N = {n}, seeds {seeds.start}-{seeds.stop - 1}; P(consensus))\n")
    print("\n".join(hk_table(epsilons, n, seeds, 300)) + "\n", flush=True)
    n, seeds = sizes["ja"]
    print(f"Jager-Amblard (complete graph, N = {n}, mu = 0.1, 1500 steps, seeds {seeds.start}-{seeds.stop - 1})\n")
    print("\n".join(ja_maps(n, seeds, 1500)) + "\n")
    print(f"wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
