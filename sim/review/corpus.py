"""Virtual studies of simulated professionals, and the virtual review of a corpus of them.

Each virtual study (ODD, "Observation"):

1. draws its design (qualitative, quantitative, other), the period it observes (before, during, after
   the surge), its setting (social work, health care, mixed) and its unit (whole groups, or individuals
   across a service); a (period, setting, unit) that no run can provide is never drawn, and the other
   combinations keep their relative weights;
2. picks a run at random among those that can provide it, and a sample size (log-uniform integer in the
   design's range, capped by the professionals available): unit=group takes whole groups of the
   setting in random order (groups whose majority profession is the setting's; any group for mixed) and
   samples their members of the setting's profession until the sample is full (the last group in part);
   unit=service samples individuals of the setting's profession across all groups;
3. a participant has a positive (negative) effect when it gained at least `salience_positive`
   (`salience_negative`) ledger events of that side in the period; the study detects an effect a
   participant has with its design's sensitivity and records one it does not have with `false_positive`;
   a study not looking for negative effects (1 - `negative_focus`) detects and records them at
   `unfocused_sensitivity` times those rates; a study that does not examine effects (1 - `examined`)
   detects nothing;
4. observes an effect when at least `theme_share` of its sample (and at least one participant) has it
   detected, and reports an observed effect with `report_positive` / `report_negative`;
5. is classified from what it reports: mixed (both), only_positive, only_negative or none.

Only the counts of participants with each combination of effects enter steps 3-5, so a study draws those
counts (a multivariate hypergeometric draw, exact for sampling without replacement) instead of agents:
200 corpora of 51 studies take milliseconds. The same generator state gives the same corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.config.errors import InputError
from sim.config.params import PROFESSIONS
from sim.review.observation import (
    CLASSES,
    DESIGNS,
    PERIODS,
    REVIEW_CLASSES,
    REVIEW_DESIGNS,
    SETTINGS,
    UNITS,
    Observation,
)

# a participant's effects: 0 none, 1 only negative, 2 only positive, 3 both
_NONE, _NEG, _POS, _BOTH = range(4)
# the class of a study from its reported flags, index 2 * positive + negative (CLASSES order)
_CLASS_OF_FLAGS = np.array(
    [CLASSES.index("none"), CLASSES.index("only_negative"), CLASSES.index("only_positive"), CLASSES.index("mixed")]
)
_CLASS_OF_CATEGORY = _CLASS_OF_FLAGS  # a professional's class from its effects, same coding
INTERVAL = (5.0, 95.0)  # percentiles over corpora: a 90% Monte Carlo interval


@dataclass(frozen=True)
class Population:
    """Who can be sampled: participant counts by effect, per run, period, setting and group."""

    runs: np.ndarray  # [R] run ids
    scenarios: np.ndarray  # [R] scenario of each run
    group_counts: np.ndarray  # [R, P, S, G, 4] members of the setting in each eligible group, by effect
    service_counts: np.ndarray  # [R, P, S, 4] members of the setting across the run, by effect
    professionals: np.ndarray  # [P, 4] agent-periods by effect, every run pooled

    @property
    def available(self) -> np.ndarray:
        """[R, P, S, U] professionals a study can sample (U: group, service)."""
        return np.stack([self.group_counts.sum(axis=(3, 4)), self.service_counts.sum(axis=3)], axis=-1)


def _codes(values: pd.Series, names: tuple[str, ...], column: str) -> np.ndarray:
    cat = pd.Categorical(values.astype(str), categories=list(names))
    codes = np.asarray(cat.codes, dtype=np.int64)
    if (codes < 0).any():
        bad = sorted(set(values[codes < 0].astype(str)))[:3]
        raise InputError(
            f"invalid {column} {', '.join(map(repr, bad))} in the effects table; allowed: {', '.join(names)}"
        )
    return codes


def prepare(effects: pd.DataFrame, obs: Observation) -> Population:
    """Count the professionals with each effect (at the observation's salience) by run, period, setting, group."""
    missing = [c for c in ("run", "period", "group", "profession", "positive", "negative") if c not in effects]
    if missing:
        raise InputError(f"the effects table lacks columns {', '.join(missing)}; allowed: a table of sim.review.data")
    if not len(effects):
        raise InputError("the effects table is empty; allowed: at least one professional in one period of one run")
    run_codes, runs = pd.factorize(effects["run"].astype(str), sort=True)
    period = _codes(effects["period"], PERIODS, "period")
    prof = _codes(effects["profession"], PROFESSIONS, "profession")
    group = effects["group"].to_numpy(dtype=np.int64)
    if group.min() < 0:
        raise InputError(f"invalid group {int(group.min())} in the effects table; allowed: >= 0")
    pos = effects["positive"].to_numpy(dtype=np.int64) >= obs.salience_positive
    neg = effects["negative"].to_numpy(dtype=np.int64) >= obs.salience_negative
    category = 2 * pos.astype(np.int64) + neg.astype(np.int64)
    R, P, G, Q = len(runs), len(PERIODS), int(group.max()) + 1, len(PROFESSIONS)
    flat = (((run_codes * P + period) * G + group) * Q + prof) * 4 + category
    cells = np.bincount(flat, minlength=R * P * G * Q * 4).reshape(R, P, G, Q, 4)
    members = cells.sum(axis=4).max(axis=1)  # [R, G, Q]: the same agents in every period of a run
    total = members.sum(axis=2)
    eligible = np.stack(
        [
            (members[..., 0] > 0) & (members[..., 0] >= members[..., 1]),  # social work: its majority
            (members[..., 1] > 0) & (members[..., 1] >= members[..., 0]),  # health care: its majority
            total > 0,  # mixed: any group
        ],
        axis=-1,
    )  # [R, G, S]
    of_setting = np.stack([cells[:, :, :, 0], cells[:, :, :, 1], cells.sum(axis=3)], axis=2)  # [R, P, S, G, 4]
    group_counts = of_setting * eligible.transpose(0, 2, 1)[:, None, :, :, None]
    scenario = (
        effects.groupby(run_codes)["scenario"].first().astype(str).to_numpy()
        if "scenario" in effects
        else np.full(R, "", dtype=object)
    )
    return Population(
        runs=np.asarray(runs, dtype=object),
        scenarios=np.asarray(scenario, dtype=object),
        group_counts=group_counts,
        service_counts=of_setting.sum(axis=3),
        professionals=cells.sum(axis=(0, 2, 3)),
    )


def _categorical(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    cum = np.cumsum(weights, dtype=np.float64)
    idx = np.searchsorted(cum / cum[-1], rng.random(n), side="right")
    return np.minimum(idx, len(weights) - 1)


def _hypergeometric(rng: np.random.Generator, colors: np.ndarray, nsample: np.ndarray) -> np.ndarray:
    """Multivariate hypergeometric draws, one per row of `colors` [N, 4] (a chain of univariate ones)."""
    out = np.zeros_like(colors)
    left = nsample.astype(np.int64).copy()
    remaining = colors.sum(axis=1)
    for c in range(colors.shape[1] - 1):
        remaining = remaining - colors[:, c]
        out[:, c] = rng.hypergeometric(colors[:, c], remaining, left)
        left -= out[:, c]
    out[:, -1] = left
    return out


def draw(pop: Population, obs: Observation, rng: np.random.Generator, n_studies: int) -> dict[str, np.ndarray]:
    """`n_studies` virtual studies as arrays (codes into DESIGNS, PERIODS, SETTINGS, UNITS, CLASSES)."""
    N = int(n_studies)
    R, P, S, G = pop.group_counts.shape[:4]
    available = pop.available  # [R, P, S, U]
    # 1. design; (period, setting, unit) among those some run can provide; a run among those
    design = _categorical(rng, np.asarray(obs.design_weights), N)
    runs_for = (available > 0).reshape(R, -1)  # [R, C]
    combo_w = np.einsum("p,s,u->psu", obs.period_weights, obs.setting_weights, (obs.group_share, 1 - obs.group_share))
    combo_w = combo_w.reshape(-1) * runs_for.any(axis=0)
    if combo_w.sum() <= 0:
        raise InputError(
            "no professional a virtual study could sample (every period, setting and unit of positive weight is "
            "empty); allowed: an effects table with professionals in a period and setting of positive weight"
        )
    combo = _categorical(rng, combo_w, N)
    period, setting, unit = np.unravel_index(combo, (P, S, len(UNITS)))
    order = np.argsort(~runs_for.T, axis=1, kind="stable")  # [C, R]: the runs that can, first
    n_runs = runs_for.sum(axis=0)
    pick = np.minimum((rng.random(N) * n_runs[combo]).astype(np.int64), np.maximum(n_runs[combo] - 1, 0))
    run = order[combo, pick]
    # 2. sample size, capped by who is there
    lo, hi = np.asarray(obs.by_design("size_min")), np.asarray(obs.by_design("size_max"))
    u = rng.random(N)
    size = np.floor(np.exp(np.log(lo[design]) + u * (np.log(hi[design] + 1.0) - np.log(lo[design]))))
    size = np.clip(size.astype(np.int64), lo[design].astype(np.int64), hi[design].astype(np.int64))
    size = np.minimum(size, available[run, period, setting, unit])
    # participants by effect: whole groups in random order (unit=group), or across the service
    counts = pop.group_counts[run, period, setting]  # [N, G, 4]
    sizes = counts.sum(axis=2)
    by_key = np.argsort(rng.random((N, G)), axis=1, kind="stable")  # empty groups add nothing wherever they fall
    counts_o = np.take_along_axis(counts, by_key[:, :, None], axis=1)
    sizes_o = np.take_along_axis(sizes, by_key, axis=1)
    whole = np.cumsum(sizes_o, axis=1) <= size[:, None]
    taken = (counts_o * whole[:, :, None]).sum(axis=1)
    partial = np.minimum(whole.sum(axis=1), G - 1)
    is_group = unit == UNITS.index("group")
    colors = np.where(is_group[:, None], counts_o[np.arange(N), partial], pop.service_counts[run, period, setting])
    rest = np.where(is_group, size - (sizes_o * whole).sum(axis=1), size)
    k = _hypergeometric(rng, colors, rest) + np.where(is_group[:, None], taken, 0)
    # 3. who has which effect, what is detected
    has_pos = k[:, _POS] + k[:, _BOTH]
    has_neg = k[:, _NEG] + k[:, _BOTH]
    focused = rng.random(N) < obs.negative_focus
    examined = rng.random(N) < obs.examined
    sens = np.asarray(obs.by_design("sensitivity"))[design]
    factor = np.where(focused, 1.0, obs.unfocused_sensitivity)
    det_pos = rng.binomial(has_pos, sens) + rng.binomial(size - has_pos, obs.false_positive)
    det_neg = rng.binomial(has_neg, sens * factor) + rng.binomial(size - has_neg, obs.false_positive * factor)
    det_pos, det_neg = det_pos * examined, det_neg * examined
    # 4. observed in enough of the sample, then reported
    theme = np.asarray(obs.by_design("theme_share"))[design]
    need = np.maximum(1, np.ceil(theme * size - 1e-9)).astype(np.int64)
    obs_pos = examined & (size > 0) & (det_pos >= need)
    obs_neg = examined & (size > 0) & (det_neg >= need)
    rep_pos = obs_pos & (rng.random(N) < obs.report_positive)
    rep_neg = obs_neg & (rng.random(N) < obs.report_negative)
    return {
        "design": design,
        "period": period,
        "setting": setting,
        "unit": unit,
        "run": run,
        "sample_size": size,
        "examined": examined,
        "negative_focus": focused,
        "with_positive": has_pos,
        "with_negative": has_neg,
        "detected_positive": det_pos,
        "detected_negative": det_neg,
        "observed_positive": obs_pos,
        "observed_negative": obs_neg,
        "reported_positive": rep_pos,
        "reported_negative": rep_neg,
        "class": _CLASS_OF_FLAGS[2 * rep_pos.astype(np.int64) + rep_neg.astype(np.int64)],
    }


def _frame(pop: Population, d: dict[str, np.ndarray], corpora: int, studies: int) -> pd.DataFrame:
    size = d["sample_size"].astype(np.float64)
    return pd.DataFrame(
        {
            "corpus": np.repeat(np.arange(corpora, dtype=np.int64), studies),
            "study": np.tile(np.arange(studies, dtype=np.int64), corpora),
            "design": np.asarray(DESIGNS, dtype=object)[d["design"]],
            "period": np.asarray(PERIODS, dtype=object)[d["period"]],
            "profession": np.asarray(SETTINGS, dtype=object)[d["setting"]],
            "unit": np.asarray(UNITS, dtype=object)[d["unit"]],
            "run": pop.runs[d["run"]],
            "scenario": pop.scenarios[d["run"]],
            "sample_size": d["sample_size"],
            "examined": d["examined"],
            "negative_focus": d["negative_focus"],
            "share_with_positive": d["with_positive"] / size,
            "share_with_negative": d["with_negative"] / size,
            "share_detected_positive": d["detected_positive"] / size,
            "share_detected_negative": d["detected_negative"] / size,
            "observed_positive": d["observed_positive"],
            "observed_negative": d["observed_negative"],
            "reported_positive": d["reported_positive"],
            "reported_negative": d["reported_negative"],
            "class": np.asarray(CLASSES, dtype=object)[d["class"]],
        }
    )


def draw_corpora(effects: pd.DataFrame, obs: Observation, rng: np.random.Generator, corpora: int = 1) -> pd.DataFrame:
    """`corpora` virtual corpora of `obs.studies` studies each: one row per study, with its `corpus`."""
    if corpora < 1:
        raise InputError(f"invalid corpora={corpora!r}; allowed: an integer >= 1")
    pop = prepare(effects, obs)
    return _frame(pop, draw(pop, obs, rng, corpora * obs.studies), corpora, obs.studies)


def draw_corpus(effects: pd.DataFrame, obs: Observation, rng: np.random.Generator) -> pd.DataFrame:
    """One virtual corpus: one row per virtual study (`study`, `design`, ..., `class`)."""
    return draw_corpora(effects, obs, rng, 1)


def _interval(x: np.ndarray) -> dict[str, float]:
    lo, hi = np.percentile(x, INTERVAL)
    return {"share": float(x.mean()), "median": float(np.median(x)), "lo": float(lo), "hi": float(hi)}


def professional_shares(effects: pd.DataFrame, obs: Observation) -> dict[str, dict[str, float]]:
    """For contrast: the shares of professionals (agent-periods) by class, per period and pooled."""
    return _professional_shares(prepare(effects, obs))


def _professional_shares(pop: Population) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    rows = {**{p: pop.professionals[i] for i, p in enumerate(PERIODS)}, "all": pop.professionals.sum(axis=0)}
    for name, counts in rows.items():
        total = counts.sum()
        if total:
            shares = np.zeros(len(CLASSES))
            np.add.at(shares, _CLASS_OF_CATEGORY, counts / total)
            out[name] = {c: float(shares[i]) for i, c in enumerate(CLASSES)}
    return out


def _summary(cls: np.ndarray, design: np.ndarray, period: np.ndarray, obs: Observation) -> dict[str, Any]:
    """Shares of class codes [corpora, studies] (and of designs and periods) over corpora."""
    n_corpora, studies = cls.shape
    share = np.stack([(cls == i).mean(axis=1) for i in range(len(CLASSES))], axis=1)  # [corpora, classes]
    classes = {c: _interval(share[:, i]) for i, c in enumerate(CLASSES)}
    classes["other"] = _interval(share[:, CLASSES.index("only_negative")] + share[:, CLASSES.index("none")])
    review_designs = {**REVIEW_DESIGNS, "other": round(1 - sum(REVIEW_DESIGNS.values()), 10)}
    designs = {d: {**_interval((design == i).mean(axis=1)), "review": review_designs[d]} for i, d in enumerate(DESIGNS)}
    by_period: dict[str, Any] = {}
    for i, p in enumerate(PERIODS):
        mask = period == i
        if mask.any():
            by_period[p] = {"studies": float(mask.mean())} | {
                c: float((cls[mask] == j).mean()) for j, c in enumerate(CLASSES)
            }
    return {
        "classes": classes,
        "review": dict(REVIEW_CLASSES),
        "designs": designs,
        "by_period": by_period,
        "corpora": int(n_corpora),
        "studies": int(studies),
        "interval": list(INTERVAL),
        "observation": obs.to_dict(),
    }


def summarize_corpora(corpora: pd.DataFrame, obs: Observation) -> dict[str, Any]:
    """Class and design shares of each corpus of a `draw_corpora` table: mean and 90% interval over corpora."""
    if not len(corpora):
        raise InputError("the corpora table is empty; allowed: a table of draw_corpora")
    n_corpora = int(corpora["corpus"].max()) + 1
    studies = len(corpora) // n_corpora
    shape = (n_corpora, studies)
    return _summary(
        _codes(corpora["class"], CLASSES, "class").reshape(shape),
        _codes(corpora["design"], DESIGNS, "design").reshape(shape),
        _codes(corpora["period"], PERIODS, "period").reshape(shape),
        obs,
    ) | {"scenarios": sorted(set(corpora["scenario"].astype(str)))}


def summarize(effects: pd.DataFrame, obs: Observation, rng: np.random.Generator, corpora: int = 200) -> dict[str, Any]:
    """The virtual review: `corpora` corpora of `obs.studies` studies, class shares with 90% intervals.

    Returns `classes[c]` = {share (mean over corpora), median, lo, hi (5th and 95th percentiles)} for
    c in mixed, only_positive, only_negative, none and other (= only_negative + none, the review's 36%),
    `review` (the review's shares), `designs` (design shares, with the review's), `by_period` (share of
    studies and their classes per period), `professionals` (shares of agent-periods by class, for
    contrast), `corpora`, `studies`, `runs` (runs in the table), `scenarios`. Draws exactly what
    `draw_corpora(effects, obs, rng, corpora)` draws from the same generator state.
    """
    if corpora < 1:
        raise InputError(f"invalid corpora={corpora!r}; allowed: an integer >= 1")
    pop = prepare(effects, obs)
    d = draw(pop, obs, rng, corpora * obs.studies)
    shape = (corpora, obs.studies)
    return _summary(d["class"].reshape(shape), d["design"].reshape(shape), d["period"].reshape(shape), obs) | {
        "professionals": _professional_shares(pop),
        "runs": len(pop.runs),
        "scenarios": sorted(set(pop.scenarios.astype(str))),
    }
