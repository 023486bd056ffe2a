"""Population metrics by scope: the whole population, each group, each profession.

Share-type metrics are per-agent indicators averaged with one `bincount` per scope (O(N) for all
levels at once); polarization measures sort each level's stances (O(N log N) in total). Nothing
is N x N. Definitions and sources are in docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.fast import dissenters_nb
from sim.metrics.polarization import polarization_measures
from sim.metrics.tiestats import degrees, level_assortativity
from sim.params import PROFESSIONS, MetricsConfig
from sim.schedule import StepReport
from sim.state import LEDGER_NEGATIVE, LEDGER_POSITIVE, State
from sim.submodels.ties import EVENT_KINDS

SCOPES = ("all", "group", "profession")

# per-agent indicators whose level mean is the metric
MEAN_METRICS = (
    "stance_mean", "adopter_share", "resister_share",
    "dissenter_share", "marginalized_share", "isolated_share", "in_group_degree_mean",
    "withdrawn_share", "overloaded_share", "engagement_mean", "load_mean",
    "identity_mean", "degree_mean", "accepted_share",
    "ledger_only_positive", "ledger_only_negative", "ledger_mixed", "ledger_none",
)
# events of the step counted by the scope of their source agent
COUNT_METRICS = ("ties_cut", "ties_excluded", "ties_muted", "ties_formed", "ties_rewired")
POLARIZATION_METRICS = (
    "spread", "dispersion", "mean_abs_dev", "pairwise_dispersion", "coverage",
    "n_clusters", "n_major_clusters", "n_minor_clusters", "group_divergence", "group_consensus",
    "distinctness", "size_parity", "bimodality", "esteban_ray", "assortativity",
)
RATIO_METRICS = ("marginalized_of_dissenters", "in_group_ties_lost_share")
METRICS = MEAN_METRICS + RATIO_METRICS + COUNT_METRICS + POLARIZATION_METRICS + ("exposure",)


@dataclass
class ScopeValues:
    scope: str
    levels: list[str]
    values: dict[str, np.ndarray]  # metric -> value per level


def ledger_effects(ledger: dict[str, np.ndarray], base: dict[str, np.ndarray] | None = None):
    """Who has positive and who has negative effects, counting since `base` (None: since step 0)."""
    def since(keys):
        total = sum(ledger[k].astype(np.int64) for k in keys)
        return total - sum(base[k].astype(np.int64) for k in keys) if base is not None else total
    return since(LEDGER_POSITIVE) > 0, since(LEDGER_NEGATIVE) > 0


def indicators(state: State, report: StepReport | None, cfg: MetricsConfig, conformity: float,
               ledger_base: dict[str, np.ndarray] | None = None, ledger_open: bool = True):
    """Per-agent indicator arrays (the things whose means are the share metrics).

    The ledger counts since `ledger_base` (the counters when the observation window opened); before
    it opens (`ledger_open` false) the ledger shares are NaN.
    """
    x = state.stance
    degree, in_deg = degrees(state.ties.indptr, state.ties.nbr, state.group)
    dissent = dissenters_nb(x, state.group, state.group_order, state.group_start, conformity)
    deg0 = state.in_group_degree0
    lost = np.where(deg0 > 0, 1.0 - in_deg / np.maximum(deg0, 1), 0.0)
    marginalized = dissent & (deg0 > 0) & (lost > cfg.marginalized_loss)
    pos, neg = ledger_effects(state.ledger, ledger_base)
    ledger = {"ledger_only_positive": pos & ~neg, "ledger_only_negative": neg & ~pos,
              "ledger_mixed": pos & neg, "ledger_none": ~pos & ~neg}
    if not ledger_open:
        ledger = {k: np.full(len(x), np.nan) for k in ledger}
    accepted = report.n_accepted > 0 if report is not None else np.zeros(len(x), dtype=bool)
    return {
        "stance_mean": x,
        "adopter_share": x > cfg.adopter_above,
        "resister_share": x < cfg.resister_below,
        "dissenter_share": dissent,
        "marginalized_share": marginalized,
        "isolated_share": degree == 0,
        "in_group_degree_mean": in_deg,
        "withdrawn_share": state.withdrawn,
        "overloaded_share": state.overloaded,
        "engagement_mean": state.engagement,
        "load_mean": state.load,
        "identity_mean": state.identity,
        "degree_mean": degree,
        "accepted_share": accepted,
        **ledger,
        "_in_deg": in_deg,
        "_deg0": deg0,
    }


def scope_levels(state: State, scope: str) -> tuple[np.ndarray, list[str]]:
    """Level id of every agent in this scope, and the level names."""
    n = state.n_agents
    if scope == "all":
        return np.zeros(n, dtype=np.int64), ["all"]
    if scope == "group":
        return state.group.astype(np.int64), [str(g) for g in range(state.n_groups)]
    return state.profession.astype(np.int64), list(PROFESSIONS)


def scope_metrics(state: State, events: tuple[np.ndarray, np.ndarray], ind: dict[str, np.ndarray],
                  scope: str, cfg: MetricsConfig, exposure: float) -> ScopeValues:
    level, names = scope_levels(state, scope)
    k = len(names)
    counts = np.bincount(level, minlength=k).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = {m: np.bincount(level, weights=ind[m].astype(float), minlength=k) / counts
                  for m in MEAN_METRICS}
        dissent_n = np.bincount(level, weights=ind["dissenter_share"].astype(float), minlength=k)
        marg_n = np.bincount(level, weights=ind["marginalized_share"].astype(float), minlength=k)
        values["marginalized_of_dissenters"] = marg_n / dissent_n
        deg0 = np.bincount(level, weights=ind["_deg0"].astype(float), minlength=k)
        in_deg = np.bincount(level, weights=ind["_in_deg"].astype(float), minlength=k)
        # negative when a level gained in-group ties; undefined (nan) where it had none to lose
        values["in_group_ties_lost_share"] = np.where(deg0 > 0, 1.0 - in_deg / deg0, np.nan)
    src, kind = events  # tie events since the previous record, by the scope of their source
    for name in COUNT_METRICS:
        code = EVENT_KINDS.index(name.removeprefix("ties_"))
        values[name] = np.bincount(level[src[kind == code]], minlength=k).astype(float)
    pol = {m: np.full(k, np.nan) for m in POLARIZATION_METRICS}
    # agents by level (stable): the group order is kept by the state, the whole population is in order
    order = {"all": np.arange(len(level)), "group": state.group_order}.get(scope)
    order = np.argsort(level, kind="stable") if order is None else order
    bounds = np.concatenate([[0], np.cumsum(np.bincount(level, minlength=k))])
    for lv in range(k):
        members = order[bounds[lv]:bounds[lv + 1]]
        measures = polarization_measures(state.stance[members], cluster_gap=cfg.cluster_gap,
                                         minor_share=cfg.minor_share)
        for m, val in measures.items():
            if m in pol:
                pol[m][lv] = val
    # over the ties with both ends in the level
    known = ind.get("_assortativity", {})  # computed for every scope in one pass (MetricsRecorder)
    pol["assortativity"] = known[scope] if scope in known else level_assortativity(
        state.ties.indptr, state.ties.nbr, state.stance, level, k)
    values.update(pol)
    values["exposure"] = np.full(k, exposure)
    return ScopeValues(scope, names, values)
