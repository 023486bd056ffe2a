"""What every metric means, in words and with its unit: the one place labels and descriptions come from.

Each metric of `sim.metrics.population.METRICS` has an entry: its family (the table of docs/metrics.md),
a short label for a figure's axis or legend ("Esteban-Ray polarization"), its unit ("index, 0-1"), its
range as docs/metrics.md states it, a one-line meaning and the finding or paper it speaks to. The run's
figure, the sweep figure and the data dictionary written next to a collected sweep
(`sim.studies.collect`) read them here; `tests/integration/test_docs.py` checks that docs/metrics.md,
which gives the formulas, agrees (every metric in its family's row, its range in its definition).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    family: str
    label: str  # words, for an axis or a legend
    unit: str
    range: str  # as docs/metrics.md states it in the metric's definition ("Range [0, 1]")
    meaning: str  # one line
    source: str  # the review's finding (KF1-KF12, docs/ODD.md) or the paper the measure comes from


_SHARE = "share of agents, 0-1"
_INDEX = "index, 0-1"
_EVENTS = "tie events since the previous record"
_BRAMSON = "Bramson et al. 2017"

CATALOG: dict[str, MetricInfo] = {
    # Stance
    "stance_mean": MetricInfo(
        "Stance", "mean stance", "stance, 0-1 (1 = dominant discourse)", "[0, 1]", "mean stance of the agents", "KF10"
    ),
    "adopter_share": MetricInfo(
        "Stance",
        "adopters",
        _SHARE,
        "[0, 1]",
        "share of agents with a stance above metrics.adopter_above (adopters of the dominant discourse)",
        "KF10",
    ),
    "resister_share": MetricInfo(
        "Stance",
        "resisters",
        _SHARE,
        "[0, 1]",
        "share of agents with a stance below metrics.resister_below (resisters of the dominant discourse)",
        "KF9, KF10",
    ),
    # Polarization
    "spread": MetricInfo(
        "Polarization", "stance spread", "stance range, 0-1", "[0, 1]", "highest minus lowest stance", _BRAMSON
    ),
    "dispersion": MetricInfo(
        "Polarization",
        "stance dispersion",
        "standard deviation of stance, 0-0.5",
        "[0, 0.5]",
        "population standard deviation of the stances",
        _BRAMSON,
    ),
    "mean_abs_dev": MetricInfo(
        "Polarization",
        "mean absolute deviation of stance",
        "stance, 0-0.5",
        "[0, 0.5]",
        "mean absolute distance of the stances from their mean",
        _BRAMSON,
    ),
    "pairwise_dispersion": MetricInfo(
        "Polarization",
        "pairwise stance distance",
        "stance distance, 0-1",
        "[0, 1]",
        "mean stance distance between two distinct agents (Gini's mean difference)",
        _BRAMSON,
    ),
    "coverage": MetricInfo(
        "Polarization",
        "coverage of the stance scale",
        "share of the stance scale, 0-1",
        "[0, 1]",
        "length of the stance scale within metrics.cluster_gap / 2 of some agent",
        _BRAMSON,
    ),
    "n_clusters": MetricInfo(
        "Polarization",
        "opinion clusters",
        "count",
        "1..n",
        "number of opinion clusters (stances split at gaps wider than metrics.cluster_gap)",
        _BRAMSON,
    ),
    "n_major_clusters": MetricInfo(
        "Polarization",
        "major opinion clusters",
        "count",
        "0..K",
        "opinion clusters holding at least metrics.minor_share of the agents",
        _BRAMSON,
    ),
    "n_minor_clusters": MetricInfo(
        "Polarization",
        "minor opinion clusters",
        "count",
        "0..K",
        "opinion clusters holding less than metrics.minor_share of the agents",
        _BRAMSON,
    ),
    "group_divergence": MetricInfo(
        "Polarization",
        "divergence between opinion clusters",
        "stance distance, 0-1",
        "[0, 1]",
        "size-weighted mean distance between the mean stances of distinct clusters",
        _BRAMSON,
    ),
    "group_consensus": MetricInfo(
        "Polarization",
        "consensus within opinion clusters",
        _INDEX,
        "[0, 1]",
        "1 minus twice the size-weighted standard deviation within clusters (1 = every cluster unanimous)",
        _BRAMSON,
    ),
    "distinctness": MetricInfo(
        "Polarization",
        "distinctness of the two largest clusters",
        _INDEX,
        "[0, 1]",
        "distance between the two largest clusters' means over that distance plus their spreads",
        _BRAMSON,
    ),
    "size_parity": MetricInfo(
        "Polarization",
        "cluster size parity",
        _INDEX,
        "[0, 1]",
        "normalized entropy of the cluster shares (1 = clusters of equal size)",
        _BRAMSON,
    ),
    "bimodality": MetricInfo(
        "Polarization",
        "bimodality coefficient",
        "coefficient, 0-1 (above 5/9 suggests two modes)",
        "(0, 1)",
        "Sarle's bimodality coefficient of the stances",
        "SAS/STAT; Pfister et al. 2013",
    ),
    "esteban_ray": MetricInfo(
        "Polarization",
        "Esteban-Ray polarization",
        _INDEX,
        "[0, 1]",
        "Esteban and Ray's polarization of the binned stances (1 = two equal masses at 0 and 1)",
        "Esteban & Ray 1994",
    ),
    "assortativity": MetricInfo(
        "Polarization",
        "opinion assortativity",
        "correlation, -1 to 1",
        "[-1, 1]",
        "correlation of the stances at the two ends of a tie (positive: like-minded ties)",
        "Newman 2003",
    ),
    # Marginalization
    "dissenter_share": MetricInfo(
        "Marginalization",
        "dissenters",
        _SHARE,
        "[0, 1]",
        "share of agents farther than ties.conformity from their group's median stance",
        "KF10",
    ),
    "marginalized_share": MetricInfo(
        "Marginalization",
        "marginalized",
        _SHARE,
        "[0, 1]",
        "share of agents that are dissenters and lost more than metrics.marginalized_loss of their in-group ties",
        "KF10",
    ),
    "marginalized_of_dissenters": MetricInfo(
        "Marginalization",
        "marginalized dissenters",
        "share of dissenters, 0-1",
        "[0, 1]",
        "marginalized agents over dissenters (empty when there is no dissenter)",
        "KF10",
    ),
    "in_group_degree_mean": MetricInfo(
        "Marginalization",
        "in-group ties per agent",
        "ties per agent",
        "$\\ge 0$",
        "mean number of ties to members of one's own group (muted ties count)",
        "KF10",
    ),
    "in_group_ties_lost_share": MetricInfo(
        "Marginalization",
        "in-group ties lost",
        "share of the initial in-group ties, at most 1",
        "$\\le 1$",
        "net share of the initial in-group ties that are gone (negative: more than at step 0)",
        "KF10",
    ),
    "ties_excluded": MetricInfo(
        "Marginalization",
        "ties excluded",
        _EVENTS,
        "$\\ge 0$",
        "in-group ties a dissenter lost to exclusion",
        "KF10",
    ),
    # Asociality
    "withdrawn_share": MetricInfo(
        "Asociality",
        "withdrawn",
        _SHARE,
        "[0, 1]",
        "share of agents with engagement below attention.withdrawn_below",
        "KF11, KF12",
    ),
    "overload_withdrawn_share": MetricInfo(
        "Asociality",
        "withdrawn through overload",
        _SHARE,
        "[0, 1]",
        "share of agents withdrawn whose withdrawal began while overloaded",
        "KF11",
    ),
    "disengaged_share": MetricInfo(
        "Asociality",
        "disengaged (withdrawn without overload)",
        _SHARE,
        "[0, 1]",
        "share of agents withdrawn whose withdrawal did not begin under overload",
        "KF11, KF12",
    ),
    "overloaded_share": MetricInfo(
        "Asociality",
        "overloaded",
        _SHARE,
        "[0, 1]",
        "share of agents whose message load exceeded their attention capacity in the step",
        "KF11",
    ),
    "engagement_mean": MetricInfo(
        "Asociality", "mean engagement", "engagement, 0-1", "[0, 1]", "mean engagement of the agents", "KF11, KF12"
    ),
    "trust_mean": MetricInfo(
        "Asociality", "mean tech trust", "trust, 0-1", "[0, 1]", "mean trust in digital technology", "KF12"
    ),
    "load_mean": MetricInfo(
        "Asociality",
        "mean message load",
        "arriving messages per unit of attention capacity",
        "$\\ge 0$",
        "mean of expected arriving messages over attention capacity (above 1: overloaded)",
        "KF11",
    ),
    "isolated_share": MetricInfo(
        "Asociality", "isolated", _SHARE, "[0, 1]", "share of agents with no tie at all", "KF7, KF10"
    ),
    "ties_cut": MetricInfo(
        "Asociality",
        "ties cut",
        _EVENTS,
        "$\\ge 0$",
        "ties cut by a mutual mute or dropped by a rewirer",
        "KF9, KF10",
    ),
    "ties_muted": MetricInfo("Asociality", "ties muted", _EVENTS, "$\\ge 0$", "ties an agent muted", "KF9"),
    # Resocialization
    "identity_mean": MetricInfo(
        "Resocialization",
        "mean identity clarity",
        "identity clarity, 0-1",
        "[0, 1]",
        "mean clarity of professional identity",
        "KF8",
    ),
    "accepted_share": MetricInfo(
        "Resocialization",
        "accepted a message",
        _SHARE,
        "[0, 1]",
        "share of agents that assimilated at least one message in the step",
        "KF7",
    ),
    "degree_mean": MetricInfo(
        "Resocialization",
        "ties per agent",
        "ties per agent",
        "$\\ge 0$",
        "mean number of ties per agent (muted ties count)",
        "KF8",
    ),
    "ties_formed": MetricInfo(
        "Resocialization", "ties formed", _EVENTS, "$\\ge 0$", "new ties proposed and accepted", "KF8"
    ),
    "ties_rewired": MetricInfo(
        "Resocialization",
        "ties rewired",
        _EVENTS,
        "$\\ge 0$",
        "ties a dissenter moved to a like-minded agent of another group",
        "KF10",
    ),
    # Effect ledger
    "ledger_only_positive": MetricInfo(
        "Effect ledger",
        "only positive effects",
        _SHARE,
        "[0, 1]",
        "share of agents with positive and no negative effects in the observation window",
        "KF6, KF7",
    ),
    "ledger_only_negative": MetricInfo(
        "Effect ledger",
        "only negative effects",
        _SHARE,
        "[0, 1]",
        "share of agents with negative and no positive effects in the observation window",
        "KF6, KF7",
    ),
    "ledger_mixed": MetricInfo(
        "Effect ledger",
        "mixed effects",
        _SHARE,
        "[0, 1]",
        "share of agents with both positive and negative effects in the observation window",
        "KF6, KF7",
    ),
    "ledger_none": MetricInfo(
        "Effect ledger",
        "no effect",
        _SHARE,
        "[0, 1]",
        "share of agents with neither positive nor negative effects in the observation window",
        "KF6, KF7",
    ),
    # Exposure
    "exposure": MetricInfo(
        "Exposure",
        "exposure E(t)",
        "times the pre-pandemic level",
        "[0, 200]",
        "exposure level of the step (baseline plus the surge)",
        "KF1",
    ),
}


def info(metric: str) -> MetricInfo:
    """The entry of a metric key (KeyError for an unknown one)."""
    return CATALOG[metric]


def axis_label(metric: str) -> str:
    """`label (unit)`, e.g. 'Esteban-Ray polarization (index, 0-1)'."""
    m = CATALOG[metric]
    return f"{m.label} ({m.unit})"
