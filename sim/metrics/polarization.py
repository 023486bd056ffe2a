"""Polarization measures for one-dimensional stances in [0, 1].

The measures follow the senses of polarization in Bramson et al. (2017),
"Understanding Polarization: Meanings, Measures, and Model Evaluation",
Philosophy of Science 84(1): 115-159, plus Esteban & Ray (1994) polarization,
Sarle's bimodality coefficient (Pfister et al. 2013) and Newman's (2003)
assortativity. They are meant to run every step of a simulation on up to
10^6 agents, so each is O(N log N) at worst (one sort) and never builds an
N x N matrix or loops over agents in Python. Definitions, ranges and
sources are in docs/metrics.md.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "bimodality_coefficient",
    "esteban_ray",
    "opinion_assortativity",
    "opinion_clusters",
    "polarization_measures",
]

#: Largest Esteban-Ray alpha admitted by their axioms; it also keeps the
#: normalized index within [0, 1] (see docs/metrics.md).
ER_ALPHA_MAX = 1.6

_NAN = float("nan")

_KEYS = (
    "spread",
    "dispersion",
    "mean_abs_dev",
    "pairwise_dispersion",
    "coverage",
    "n_clusters",
    "n_major_clusters",
    "n_minor_clusters",
    "group_divergence",
    "group_consensus",
    "distinctness",
    "size_parity",
    "bimodality",
    "esteban_ray",
)


def _as_stances(x: np.ndarray, *, unit_interval: bool) -> np.ndarray:
    """Coerce to a 1-D float64 array and reject values that would give silently wrong measures.

    NaN would sort to the end and merge into the last cluster, and stances
    outside [0, 1] break the normalizations that assume a unit opinion space,
    so both fail loudly here instead.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"stances must be a 1-D array, got shape {arr.shape}")
    if arr.size:
        lo, hi = float(arr.min()), float(arr.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError("stances must be finite (found NaN or inf)")
        if unit_interval and (lo < 0.0 or hi > 1.0):
            raise ValueError(f"stances must lie in [0, 1], got min={lo!r}, max={hi!r}")
    return arr


def _check_gap(gap: float) -> float:
    gap = float(gap)
    if not (np.isfinite(gap) and gap >= 0.0):
        raise ValueError(f"gap must be a finite number >= 0, got {gap!r}")
    return gap


def _check_bins_alpha(bins: int, alpha: float) -> tuple[int, float]:
    if isinstance(bins, bool) or int(bins) != bins or bins < 1:
        raise ValueError(f"bins must be an integer >= 1, got {bins!r}")
    alpha = float(alpha)
    if not (0.0 <= alpha <= ER_ALPHA_MAX):
        raise ValueError(f"alpha must lie in [0, {ER_ALPHA_MAX}], got {alpha!r}")
    return int(bins), alpha


def _cluster_starts(xs: np.ndarray, gap: float) -> np.ndarray:
    """Start index of each cluster in sorted stances (single linkage = cutting wide sorted gaps)."""
    cuts = np.flatnonzero(np.diff(xs) > gap) + 1
    return np.concatenate(([0], cuts)).astype(np.int64)


def _sorted_abs_diff_sum(u: np.ndarray, v: np.ndarray, y: np.ndarray) -> float:
    """sum_a sum_b u_a v_b |y_a - y_b| for non-decreasing y, in O(K) with prefix sums.

    Needed because cluster counts can reach N (tiny gap), where the
    double sum over pairs would be quadratic.
    """
    if y.size < 2:
        return 0.0
    y = y - y[0]  # shift-invariant; keeps the prefix sums small
    cu = np.concatenate(([0.0], np.cumsum(u)[:-1]))
    cuy = np.concatenate(([0.0], np.cumsum(u * y)[:-1]))
    cv = np.concatenate(([0.0], np.cumsum(v)[:-1]))
    cvy = np.concatenate(([0.0], np.cumsum(v * y)[:-1]))
    # For each b, pairs (a < b) contribute (u_a v_b + u_b v_a)(y_b - y_a).
    total = np.dot(v, y * cu - cuy) + np.dot(u, y * cv - cvy)
    return max(float(total), 0.0)


def opinion_clusters(x: np.ndarray, gap: float) -> np.ndarray:
    """Cluster sizes (int64) in increasing stance order.

    Agents whose sorted stances differ by at most `gap` share a cluster
    (single linkage), so a cluster is a run of agents with no empty stretch
    wider than `gap` inside it. Empty input gives an empty array.

    Args:
        x: Stances, any finite values.
        gap: Largest within-cluster gap between neighbouring sorted stances, >= 0.

    Returns:
        Sizes of the clusters, summing to len(x).
    """
    arr = _as_stances(x, unit_interval=False)
    gap = _check_gap(gap)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = _cluster_starts(np.sort(arr), gap)
    return np.diff(np.append(starts, arr.size)).astype(np.int64)


def _esteban_ray_sorted(xs: np.ndarray, bins: int, alpha: float) -> float:
    n = xs.size
    if n == 0:
        return _NAN
    idx = np.minimum((xs * bins).astype(np.int64), bins - 1)
    counts = np.bincount(idx, minlength=bins).astype(np.float64)
    sums = np.bincount(idx, weights=xs, minlength=bins)
    keep = counts > 0
    pi = counts[keep] / n
    # Bins are ordered intervals, so bin means are non-decreasing (up to rounding, hence the guard).
    y = np.maximum.accumulate(sums[keep] / counts[keep])
    raw = _sorted_abs_diff_sum(pi ** (1.0 + alpha), pi, y)
    # Two masses of 1/2 at 0 and 1 give raw = 2 * 0.5**(2 + alpha) = 0.5**(1 + alpha).
    return min(raw * 2.0 ** (1.0 + alpha), 1.0)


def esteban_ray(x: np.ndarray, *, bins: int = 10, alpha: float = 1.6) -> float:
    """Esteban & Ray (1994) polarization on a binned stance distribution, scaled to [0, 1].

    Binning turns agents into the "groups" of the ER model (identification
    needs a mass of people at similar stances); the scale factor
    2**(1 + alpha) makes two equal masses at 0 and 1 score exactly 1, the
    maximum for alpha in [0, 1.6].

    Args:
        x: Stances in [0, 1].
        bins: Number of equal-width bins on [0, 1]; the last bin is closed.
        alpha: Polarization sensitivity, in [0, 1.6] (ER's admissible range).

    Returns:
        Polarization in [0, 1]; nan for empty input.
    """
    bins, alpha = _check_bins_alpha(bins, alpha)
    arr = _as_stances(x, unit_interval=True)
    return _esteban_ray_sorted(np.sort(arr), bins, alpha)


def _bimodality_sorted(xs: np.ndarray) -> float:
    n = xs.size
    if n < 4 or xs[0] == xs[-1]:
        return _NAN
    d = xs - xs.mean()
    d = d / np.abs(d).max()  # moment ratios are scale-free; this avoids under/overflow in d**4
    d2 = d * d
    m2 = d2.mean()
    m3 = np.dot(d2, d) / n
    m4 = np.dot(d2, d2) / n
    if m2 <= 0.0:
        return _NAN
    g1 = m3 / m2**1.5
    g2 = m4 / m2**2 - 3.0
    big_g1 = g1 * np.sqrt(n * (n - 1.0)) / (n - 2.0)
    big_g2 = (n - 1.0) / ((n - 2.0) * (n - 3.0)) * ((n + 1.0) * g2 + 6.0)
    denom = big_g2 + 3.0 * (n - 1.0) ** 2 / ((n - 2.0) * (n - 3.0))
    return float((big_g1**2 + 1.0) / denom)


def bimodality_coefficient(x: np.ndarray) -> float:
    """Sarle's bimodality coefficient with small-sample corrected moments.

    Uses the corrected skewness G1 and excess kurtosis G2 (as SAS and
    Pfister et al. 2013) so values are comparable with the 5/9 benchmark
    of a uniform distribution; above 5/9 suggests bimodality.

    Args:
        x: Stances, any finite values.

    Returns:
        BC in (0, 1); nan for fewer than 4 agents or zero variance.
    """
    arr = _as_stances(x, unit_interval=False)
    return _bimodality_sorted(np.sort(arr))


def opinion_assortativity(x: np.ndarray, u: np.ndarray, v: np.ndarray) -> float:
    """Newman (2003) scalar assortativity of stances over undirected ties.

    Each tie enters in both directions, so the result is the Pearson
    correlation of the symmetric list of (stance, neighbour stance) pairs;
    repeated ties count repeatedly and a self-tie pairs an agent with itself.

    Args:
        x: Stances, any finite values.
        u: Integer agent indices of one end of each tie.
        v: Integer agent indices of the other end, same length as `u`.

    Returns:
        Correlation in [-1, 1]; nan with no ties or zero variance over tie ends.
    """
    arr = _as_stances(x, unit_interval=False)
    u = np.asarray(u)
    v = np.asarray(v)
    if u.shape != v.shape or u.ndim != 1:
        raise ValueError(f"u and v must be 1-D arrays of equal length, got {u.shape} and {v.shape}")
    if u.size == 0:
        return _NAN
    if not (np.issubdtype(u.dtype, np.integer) and np.issubdtype(v.dtype, np.integer)):
        raise ValueError("u and v must hold integer agent indices")
    lo = min(int(u.min()), int(v.min()))
    hi = max(int(u.max()), int(v.max()))
    if lo < 0 or hi >= arr.size:
        raise ValueError(f"tie indices must lie in [0, {arr.size}), got range [{lo}, {hi}]")
    # Shift by one tie-end stance so that equal stances give exactly zero variance.
    xu = arr[u] - arr[u[0]]
    xv = arr[v] - arr[u[0]]
    mean = 0.5 * (xu.mean() + xv.mean())
    du = xu - mean
    dv = xv - mean
    scale = max(float(np.abs(du).max()), float(np.abs(dv).max()))
    if scale == 0.0:
        return _NAN
    du /= scale  # correlation is scale-free; this avoids underflow in the squares
    dv /= scale
    var = np.dot(du, du) + np.dot(dv, dv)
    if var <= 0.0:
        return _NAN
    r = 2.0 * np.dot(du, dv) / var
    return float(min(max(r, -1.0), 1.0))


def polarization_measures(
    x: np.ndarray,
    *,
    cluster_gap: float = 0.05,
    minor_share: float = 0.05,
    bins: int = 10,
    er_alpha: float = 1.6,
) -> dict[str, float]:
    """All stance-only polarization measures from one sort of `x`.

    Sharing the sort keeps a full report at O(N log N), cheap enough to log
    every step. The groups of Bramson et al.'s group-based senses are the
    opinion clusters found with `cluster_gap`, since agents carry no other
    group label here.

    Args:
        x: Stances in [0, 1].
        cluster_gap: Gap rule for clusters (see `opinion_clusters`); also sets the
            coverage radius cluster_gap / 2, so covered stretches match clusters.
        minor_share: Clusters with share of agents >= this are major, others minor.
        bins: Bins on [0, 1] for Esteban-Ray.
        er_alpha: Esteban-Ray alpha, in [0, 1.6].

    Returns:
        Dict with keys spread, dispersion, mean_abs_dev, pairwise_dispersion,
        coverage, n_clusters, n_major_clusters, n_minor_clusters,
        group_divergence, group_consensus, distinctness, size_parity,
        bimodality, esteban_ray (all Python floats; nan where undefined).
    """
    gap = _check_gap(cluster_gap)
    minor_share = float(minor_share)
    if not (0.0 <= minor_share <= 1.0):
        raise ValueError(f"minor_share must lie in [0, 1], got {minor_share!r}")
    bins, er_alpha = _check_bins_alpha(bins, er_alpha)
    xs = np.sort(_as_stances(x, unit_interval=True))
    n = xs.size

    if n == 0:
        out = dict.fromkeys(_KEYS, _NAN)
        out.update(coverage=0.0, n_clusters=0.0, n_major_clusters=0.0, n_minor_clusters=0.0)
        return out

    out: dict[str, float] = {}
    mean = xs.mean()
    dev = xs - mean
    out["spread"] = float(xs[-1] - xs[0])
    out["dispersion"] = 0.0 if xs[0] == xs[-1] else float(np.sqrt(np.dot(dev, dev) / n))
    out["mean_abs_dev"] = 0.0 if xs[0] == xs[-1] else float(np.abs(dev).mean())

    if n < 2:
        out["pairwise_dispersion"] = _NAN
    else:
        # sum_{i<j} (x_(j) - x_(i)) = sum_i (2i - n + 1) x_(i). The weights sum to 0,
        # so shifting x by x_(0) changes nothing but reduces rounding.
        w = 2.0 * np.arange(n, dtype=np.float64) - (n - 1)
        out["pairwise_dispersion"] = float(max(np.dot(w, xs - xs[0]), 0.0) * 2.0 / (n * (n - 1.0)))

    # Coverage: union of [x - r, x + r] clipped to [0, 1]. Sorted centres with a common
    # radius give sorted starts and ends, so the merged length is a running sum.
    r = 0.5 * gap
    lo = np.clip(xs - r, 0.0, 1.0)
    hi = np.clip(xs + r, 0.0, 1.0)
    prev_hi = np.concatenate(([0.0], hi[:-1]))
    out["coverage"] = float(min(np.clip(hi - np.maximum(lo, prev_hi), 0.0, None).sum(), 1.0))

    # Clusters and group-based senses.
    starts = _cluster_starts(xs, gap)
    sizes = np.diff(np.append(starts, n))
    k = sizes.size
    share = sizes / n
    n_major = int(np.count_nonzero(share >= minor_share))
    out["n_clusters"] = float(k)
    out["n_major_clusters"] = float(n_major)
    out["n_minor_clusters"] = float(k - n_major)

    # Deviations are taken from each cluster's first stance so that identical stances give
    # exactly zero spread (a rounded cluster mean would leave ~1e-17 residue).
    shifted = xs - np.repeat(xs[starts], sizes)
    offset = np.add.reduceat(shifted, starts) / sizes
    means = xs[starts] + offset
    within = shifted - np.repeat(offset, sizes)
    sds = np.sqrt(np.add.reduceat(within * within, starts) / sizes)
    if k == 1:
        out["group_divergence"] = 0.0
    else:
        # Weighted mean of |m_a - m_b| over distinct clusters, weights w_a w_b.
        pair_weight = 1.0 - float(np.dot(share, share))
        means_sorted = np.maximum.accumulate(means)  # guard tiny rounding in sorted order
        divergence = _sorted_abs_diff_sum(share, share, means_sorted) / pair_weight
        out["group_divergence"] = min(divergence, 1.0)
    out["group_consensus"] = float(np.clip(1.0 - 2.0 * np.dot(share, sds), 0.0, 1.0))
    if k < 2:
        out["distinctness"] = 0.0
    else:
        top = np.argsort(-sizes, kind="stable")[:2]  # ties go to the lower-stance cluster
        sep = abs(float(means[top[0]] - means[top[1]]))
        spread_sum = float(sds[top[0]] + sds[top[1]])
        out["distinctness"] = sep / (spread_sum + sep) if sep > 0.0 else 0.0
    if k == 1:
        out["size_parity"] = 0.0
    else:
        entropy = -float(np.dot(share, np.log(share)))
        out["size_parity"] = float(min(max(entropy / np.log(k), 0.0), 1.0))

    out["bimodality"] = _bimodality_sorted(xs)
    out["esteban_ray"] = _esteban_ray_sorted(xs, bins, er_alpha)
    return {key: float(out[key]) for key in _KEYS}

