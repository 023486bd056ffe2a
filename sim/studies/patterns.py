"""The review's patterns as summary statistics of one model run (pattern-oriented modelling, Grimm et al. 2005).

A calibration (`sim.studies.review_calibration`) compares a run with the review on several patterns
at once; this module turns one run of the model into the statistics those patterns are stated in:

(a) the virtual review (`sim.review`): the shares of virtual studies reporting mixed, only positive and
    other effects (`review_mixed`, `review_only_positive`, `review_other`), from the run's effect
    ledger at the period boundaries, over `corpora` corpora of virtual studies;
(b) the professions (KF12): `engagement_gap`, social work minus health care, engagement averaged over
    the recorded steps of the run; `resister_gap`, the same for the share of resisters at the last step;
(c) asociality occasional and indirect (KF7): the share of agents withdrawn under overload, averaged
    over the recorded steps before, during and after the surge (`overload_withdrawn_before`, `_during`,
    `_after`), and how much the surge raises it (`overload_withdrawn_rise`, during minus before: KF11,
    information overload as a source of asociality);
(d) "a very high capacity for professional resocialization" (Policy implications): engagement and
    identity clarity after the surge relative to before it (`recovery_engagement`, `recovery_identity`:
    the mean over the last `window` steps of the run over the mean over the `window` steps before the
    surge starts);
(e) resistance and marginalization (KF10): the share of resisters that are marginalized minus the share
    of adopters that are (`marginalized_gap`, last step; NaN when either group is empty).

Everything is computed from the run in memory (no files); the randomness of the virtual review comes
from a generator seeded by the run's seed, so a run and its statistics are a function of the config.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sim.config.params import Config
from sim.core.state import LEDGER
from sim.metrics.population import indicators
from sim.review.corpus import summarize
from sim.review.data import effects_from_snapshots, needed_steps
from sim.review.observation import Observation

STATS = (
    "review_mixed",
    "review_only_positive",
    "review_other",
    "engagement_gap",
    "resister_gap",
    "overload_withdrawn_before",
    "overload_withdrawn_during",
    "overload_withdrawn_after",
    "overload_withdrawn_rise",
    "recovery_engagement",
    "recovery_identity",
    "marginalized_gap",
)
SOCIAL_WORK, HEALTH_CARE = 0, 1  # profession codes (sim.config.params.PROFESSIONS)


def _mean(x: np.ndarray, mask: np.ndarray) -> float:
    return float(np.mean(x[mask])) if mask.any() else float("nan")


def simulate(cfg: Config, obs: Observation, corpora: int = 20, every: int = 5, window: int = 20) -> dict[str, float]:
    """Run the model of `cfg` once and return the pattern statistics `STATS` (NaN where undefined).

    `every`: steps between recordings of engagement, identity and overload withdrawal; `window`: steps
    averaged for the recovery ratios. The surge is `cfg.exposure.start` .. start + length - 1 whatever the
    schedule (with constant exposure the periods are the same windows of the calendar).
    """
    from sim.model import ResocializationModel

    cfg = dataclasses.replace(cfg, mesa_agents="never")
    model = ResocializationModel(cfg, collect=False)
    state = model.state
    start, length, steps = cfg.exposure.start, cfg.exposure.length, cfg.steps
    want = set(needed_steps(start, length, steps))
    snaps: dict[int, dict[str, np.ndarray]] = {}
    sw, hc = state.profession == SOCIAL_WORK, state.profession == HEALTH_CARE
    rows: list[tuple[int, float, float, float, float]] = []  # step, engagement, identity, withdrawn, gap

    def record(t: int) -> None:
        if t in want:
            snaps[t] = {k: state.ledger[k].copy() for k in LEDGER}
        if t % every == 0 or t == steps:
            e = state.engagement.astype(np.float64)
            rows.append(
                (
                    t,
                    float(e.mean()),
                    float(state.identity.mean()),
                    float(state.overload_withdrawn.mean()),
                    _mean(e, sw) - _mean(e, hc),
                )
            )

    record(0)
    for t in range(1, steps + 1):
        model.step()
        record(t)
    rec = np.array(rows, dtype=np.float64)
    t_rec, eng, ident, ow, eng_gap = rec.T

    def period_mean(values: np.ndarray, lo: float, hi: float) -> float:
        m = (t_rec >= lo) & (t_rec < hi)
        return float(values[m].mean()) if m.any() else float("nan")

    end = start + length
    pre = (max(0, start - window), start)
    last = (max(0, steps - window + 1), steps + 1)
    stats: dict[str, float] = {
        "engagement_gap": float(np.nanmean(eng_gap)),
        "overload_withdrawn_before": period_mean(ow, 1, start),
        "overload_withdrawn_during": period_mean(ow, start, end),
        "overload_withdrawn_after": period_mean(ow, end, steps + 1),
        "overload_withdrawn_rise": period_mean(ow, start, end) - period_mean(ow, 1, start),
        "recovery_engagement": period_mean(eng, *last) / period_mean(eng, *pre),
        "recovery_identity": period_mean(ident, *last) / period_mean(ident, *pre),
    }
    m = cfg.metrics
    x = state.stance
    resister, adopter = x < m.resister_below, x > m.adopter_above
    stats["resister_gap"] = _mean(resister.astype(np.float64), sw) - _mean(resister.astype(np.float64), hc)
    marginalized = indicators(state, None, m, cfg.ties.conformity)["marginalized_share"].astype(np.float64)
    stats["marginalized_gap"] = _mean(marginalized, resister) - _mean(marginalized, adopter)
    effects = effects_from_snapshots(
        snaps, state.profession, state.group, start, length, steps, run=f"seed{cfg.seed}", seed=cfg.seed
    )
    review = summarize(effects, obs, np.random.default_rng([cfg.seed, 7]), corpora=corpora)
    for c in ("mixed", "only_positive", "other"):
        stats[f"review_{c}"] = float(review["classes"][c]["share"])
    return {k: stats[k] for k in STATS}


def describe() -> dict[str, Any]:
    """One line per statistic, for tables and figure labels."""
    return {
        "review_mixed": "virtual studies reporting mixed effects",
        "review_only_positive": "virtual studies reporting only positive effects",
        "review_other": "virtual studies reporting only negative or no effects",
        "engagement_gap": "engagement, social work - health care",
        "resister_gap": "resisters, social work - health care",
        "overload_withdrawn_before": "withdrawn under overload, before the surge",
        "overload_withdrawn_during": "withdrawn under overload, during the surge",
        "overload_withdrawn_after": "withdrawn under overload, after the surge",
        "overload_withdrawn_rise": "withdrawn under overload, during - before the surge",
        "recovery_engagement": "engagement after / before the surge",
        "recovery_identity": "identity clarity after / before the surge",
        "marginalized_gap": "marginalized: resisters - adopters",
    }
