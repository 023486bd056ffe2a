"""The regime of a final opinion distribution: consensus, polarization or fragmentation.

Opinion clusters are those of `sim.metrics.polarization` (single linkage: sorted stances split at
gaps wider than `metrics.cluster_gap`); a cluster holding at least `metrics.minor_share` of the
agents is major, a smaller one minor. The regime counts only the major clusters:

    1 major cluster             consensus      (Jager-Amblard's uniformity)
    2 major clusters            polarization   (bipolarization)
    0 or >= 3 major clusters    fragmentation  (pluriformity; 0 when every cluster is minor)
"""

from __future__ import annotations

import numpy as np

from sim.config.params import MetricsConfig
from sim.metrics.polarization import polarization_measures

REGIMES = ("consensus", "polarization", "fragmentation")


def regime_label(n_major: int) -> str:
    return {1: "consensus", 2: "polarization"}.get(int(n_major), "fragmentation")


def regime_summary(stance: np.ndarray, metrics: MetricsConfig) -> dict[str, object]:
    """`regime`, `n_major_clusters` and `n_minor_clusters` of a stance array (for summary.json)."""
    m = polarization_measures(stance, cluster_gap=metrics.cluster_gap, minor_share=metrics.minor_share)
    n_major, n_minor = int(m["n_major_clusters"]), int(m["n_minor_clusters"])
    return {"regime": regime_label(n_major), "n_major_clusters": n_major, "n_minor_clusters": n_minor}


def ja_regime(stance: np.ndarray, metrics: MetricsConfig) -> str:
    """Jager & Amblard's regime of final stances: "U", "B" or "P".

    U uniformity (one major cluster), B bipolarization (two major clusters, at least 90% of the agents
    at exactly -1 or +1 on the attitude scale), P pluriformity (anything else). The classics notebook's
    regime map and the docking measurement (`sim.studies.docking`) both read it.
    """
    n_major = regime_summary(stance, metrics)["n_major_clusters"]
    if n_major == 1:
        return "U"
    attitude = 2 * np.asarray(stance, dtype=np.float64) - 1
    return "B" if n_major == 2 and np.mean(np.abs(attitude) == 1.0) >= 0.9 else "P"
