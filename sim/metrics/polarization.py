"""Polarization measures for one-dimensional stances in [0, 1].

The measures follow the senses of polarization in Bramson et al. (2017),
"Understanding Polarization: Meanings, Measures, and Model Evaluation",
Philosophy of Science 84(1): 115-159, plus Esteban & Ray (1994) polarization,
Sarle's bimodality coefficient (Pfister et al. 2013) and Newman's (2003)
assortativity. They are meant to run every step of a simulation on up to
10^6 agents, so each is O(N log N) at worst (one sort) and never builds an
N x N matrix or loops over agents in Python. Definitions, ranges and
sources are in docs/metrics.md.

The measures are computed once, by compiled helpers on sorted stances; the
public functions validate and sort, and `polarization_by_level` runs all
measures for every level of a population (every group, say) in one
parallel call instead of one Python call per level.
"""

from __future__ import annotations

import heapq
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba as nb
import numpy as np

from sim.core.kernels import jit, parallel_kernel

__all__ = [
    "bimodality_coefficient",
    "esteban_ray",
    "opinion_assortativity",
    "opinion_clusters",
    "polarization_by_level",
    "polarization_measures",
]

#: Largest Esteban-Ray alpha admitted by their axioms; it also keeps the
#: normalized index within [0, 1] (see docs/metrics.md).
ER_ALPHA_MAX = 1.6

_NAN = float("nan")
_JIT: dict[str, Any] = {"cache": True, "nogil": True}
_THREADED_SORT = 1 << 16  # stances from which partitions are sorted in threads (a pool costs ~0.5 ms)

KEYS = (  # the measures of one stance array, in the columns' order (the metrics add assortativity)
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


# Column of each measure in the compiled kernels' output rows.
(
    _SPREAD,
    _DISPERSION,
    _MAD,
    _PAIRWISE,
    _COVERAGE,
    _N_CLUSTERS,
    _N_MAJOR,
    _N_MINOR,
    _DIVERGENCE,
    _CONSENSUS,
    _DISTINCTNESS,
    _PARITY,
    _BIMODALITY,
    _ER,
) = range(len(KEYS))


@jit(inline="always", **_JIT)
def _acc(total, comp, v):
    """Compensated (Kahan) addition of v to total."""
    y = v - comp
    t = total + y
    return t, (t - total) - y


# Sums over up to 10^6 stances run as plain sums over blocks of _BLOCK stances, the block sums added
# with compensation: about as accurate as numpy's pairwise sums, and as fast as a plain loop.
_BLOCK = 128


@jit(**_JIT)
def _dev_sums(xs, a, b, shift, offset):
    """Sum of d and of d**2 over xs[a:b], with d = (x - shift) - offset."""
    s1 = s2 = c1 = c2 = 0.0
    for lo in range(a, b, _BLOCK):
        p1 = p2 = 0.0
        for i in range(lo, min(lo + _BLOCK, b)):
            d = (xs[i] - shift) - offset
            p1 += d
            p2 += d * d
        s1, c1 = _acc(s1, c1, p1)
        s2, c2 = _acc(s2, c2, p2)
    return s1, s2


@jit(**_JIT)
def _cluster_starts(xs, gap):
    """Start index of each cluster in sorted stances (single linkage = cutting wide sorted gaps)."""
    n = xs.size
    k = 1
    for i in range(1, n):
        if xs[i] - xs[i - 1] > gap:
            k += 1
    starts = np.zeros(k, dtype=np.int64)
    c = 1
    for i in range(1, n):
        if xs[i] - xs[i - 1] > gap:
            starts[c] = i
            c += 1
    return starts


@jit(**_JIT)
def _sorted_abs_diff_sum(u, v, y):
    """sum_a sum_b u_a v_b |y_a - y_b| for non-decreasing y, in O(K) with prefix sums.

    Needed because cluster counts can reach N (tiny gap), where the
    double sum over pairs would be quadratic. Pairs (a < b) contribute
    (u_a v_b + u_b v_a)(y_b - y_a); y is shifted by y_0 (the sum is
    shift-invariant) to keep the prefix sums small.
    """
    if y.size < 2:
        return 0.0
    cu = cuy = cv = cvy = 0.0  # prefix sums over a < b
    tv = tu = ctv = ctu = 0.0
    for b in range(y.size):
        yb = y[b] - y[0]
        tv, ctv = _acc(tv, ctv, v[b] * (yb * cu - cuy))
        tu, ctu = _acc(tu, ctu, u[b] * (yb * cv - cvy))
        cu += u[b]
        cuy += u[b] * yb
        cv += v[b]
        cvy += v[b] * yb
    return max(tv + tu, 0.0)


@jit(**_JIT)
def _esteban_ray_sorted(xs, bins, alpha):
    n = xs.size
    if n == 0:
        return np.nan
    counts = np.zeros(bins)
    sums = np.zeros(bins)
    i = 0
    while i < n:  # sorted stances fill the bins in runs: sum each run in order, in a register
        b = min(int(xs[i] * bins), bins - 1)
        total = 0.0
        j = i
        while j < n and min(int(xs[j] * bins), bins - 1) == b:
            total += xs[j]
            j += 1
        counts[b] = j - i
        sums[b] = total
        i = j
    keep = counts > 0
    pi = counts[keep] / n
    # Bins are ordered intervals, so bin means are non-decreasing (up to rounding, hence the guard).
    y = sums[keep] / counts[keep]
    for a in range(1, y.size):
        y[a] = max(y[a], y[a - 1])
    raw = _sorted_abs_diff_sum(pi ** (1.0 + alpha), pi, y)
    # Two masses of 1/2 at 0 and 1 give raw = 2 * 0.5**(2 + alpha) = 0.5**(1 + alpha).
    return min(raw * 2.0 ** (1.0 + alpha), 1.0)


@jit(**_JIT)
def _moments(xs, mean, scale):
    """Sums of |d|, d**2, e**2, e**3 and e**4 over the stances, d = x - mean and e = d / scale."""
    sa = s2 = t2 = t3 = t4 = ca = c2 = ct2 = ct3 = ct4 = 0.0
    for lo in range(0, xs.size, _BLOCK):
        pa = p2 = q2 = q3 = q4 = 0.0
        for i in range(lo, min(lo + _BLOCK, xs.size)):
            d = xs[i] - mean
            e = d / scale
            e2 = e * e
            pa += abs(d)
            p2 += d * d
            q2 += e2
            q3 += e2 * e
            q4 += e2 * e2
        sa, ca = _acc(sa, ca, pa)
        s2, c2 = _acc(s2, c2, p2)
        t2, ct2 = _acc(t2, ct2, q2)
        t3, ct3 = _acc(t3, ct3, q3)
        t4, ct4 = _acc(t4, ct4, q4)
    return sa, s2, t2, t3, t4


@jit(**_JIT)
def _bimodality(n, m2, m3, m4):
    """Sarle's coefficient from the central moments m_k (any common scale)."""
    if n < 4 or m2 <= 0.0:
        return np.nan
    g1 = m3 / m2**1.5
    g2 = m4 / m2**2 - 3.0
    big_g1 = g1 * np.sqrt(n * (n - 1.0)) / (n - 2.0)
    big_g2 = (n - 1.0) / ((n - 2.0) * (n - 3.0)) * ((n + 1.0) * g2 + 6.0)
    denom = big_g2 + 3.0 * (n - 1.0) ** 2 / ((n - 2.0) * (n - 3.0))
    return (big_g1**2 + 1.0) / denom


@jit(**_JIT)
def _scale(xs, mean):
    """Largest |x - mean| of sorted stances (at an end); 1 if all are equal, where it would be 0."""
    scale = max(abs(xs[0] - mean), abs(xs[-1] - mean))
    return scale if scale > 0.0 else 1.0


@jit(**_JIT)
def _bimodality_sorted(xs):
    n = xs.size
    if n < 4 or xs[0] == xs[-1]:
        return np.nan
    mean = _dev_sums(xs, np.int64(0), n, 0.0, 0.0)[0] / n  # typed: a literal 0 compiles it twice
    # moment ratios are scale-free; scaling avoids under/overflow in d**4
    _, _, t2, t3, t4 = _moments(xs, mean, _scale(xs, mean))
    return _bimodality(n, t2 / n, t3 / n, t4 / n)


@jit(**_JIT)
def _pair_cover(xs, r):
    """sum_{i<j} (x_(j) - x_(i)), and the length of [0, 1] covered by the intervals [x - r, x + r].

    The first is sum_i (2i - n + 1) x_(i), with x shifted by x_(0) (the weights sum to 0) to reduce
    rounding. Sorted centres with a common radius give sorted interval starts and ends, so the
    merged length is a running sum.
    """
    n = xs.size
    pair = cover = cp = cc = 0.0
    prev_hi = 0.0
    for lo in range(0, n, _BLOCK):
        pp = pc = 0.0
        for i in range(lo, min(lo + _BLOCK, n)):
            pp += (2.0 * i - (n - 1)) * (xs[i] - xs[0])
            start = min(max(xs[i] - r, 0.0), 1.0)
            end = min(max(xs[i] + r, 0.0), 1.0)
            pc += max(end - max(start, prev_hi), 0.0)
            prev_hi = end
        pair, cp = _acc(pair, cp, pp)
        cover, cc = _acc(cover, cc, pc)
    return pair, cover


@jit(**_JIT)
def _spreads(xs, gap, out):
    """Spreads, dispersions, coverage and bimodality of sorted stances (one pass for the moments)."""
    n = xs.size
    mean = _dev_sums(xs, np.int64(0), n, 0.0, 0.0)[0] / n  # typed: a literal 0 compiles it twice
    sa, s2, t2, t3, t4 = _moments(xs, mean, _scale(xs, mean))
    pair, cover = _pair_cover(xs, 0.5 * gap)
    same = xs[0] == xs[-1]  # identical stances give exactly zero, not rounding residue
    out[_SPREAD] = xs[-1] - xs[0]
    out[_DISPERSION] = 0.0 if same else np.sqrt(s2 / n)
    out[_MAD] = 0.0 if same else sa / n
    out[_PAIRWISE] = np.nan if n < 2 else max(pair, 0.0) * 2.0 / (n * (n - 1.0))
    out[_COVERAGE] = min(cover, 1.0)
    out[_BIMODALITY] = np.nan if same else _bimodality(n, t2 / n, t3 / n, t4 / n)


@jit(**_JIT)
def _cluster_stats(xs, starts):
    """Share, mean and population sd of each cluster.

    Deviations are taken from each cluster's first stance so that identical stances give
    exactly zero spread (a rounded cluster mean would leave ~1e-17 residue).
    """
    n = xs.size
    k = starts.size
    share = np.empty(k)
    means = np.empty(k)
    sds = np.empty(k)
    for c in range(k):
        a = starts[c]
        b = starts[c + 1] if c + 1 < k else n
        size = b - a
        offset = _dev_sums(xs, a, b, xs[a], 0.0)[0] / size
        within = _dev_sums(xs, a, b, xs[a], offset)[1]
        share[c] = size / n
        means[c] = xs[a] + offset
        sds[c] = np.sqrt(within / size)
    return share, means, sds


@jit(**_JIT)
def _two_largest(share):
    """Indices of the two largest clusters; a tie in size goes to the lower-stance cluster."""
    first, second = 0, -1
    for c in range(1, share.size):
        if share[c] > share[first]:
            first, second = c, first
        elif second < 0 or share[c] > share[second]:
            second = c
    return first, second


@jit(**_JIT)
def _group_senses(xs, gap, minor_share, out):
    """Cluster counts and the group-based senses, the groups being the opinion clusters."""
    starts = _cluster_starts(xs, gap)
    share, means, sds = _cluster_stats(xs, starts)
    k = starts.size
    n_major = 0
    for c in range(k):
        if share[c] >= minor_share:
            n_major += 1
    out[_N_CLUSTERS] = k
    out[_N_MAJOR] = n_major
    out[_N_MINOR] = k - n_major
    consensus = comp = 0.0
    for c in range(k):
        consensus, comp = _acc(consensus, comp, share[c] * sds[c])
    out[_CONSENSUS] = min(max(1.0 - 2.0 * consensus, 0.0), 1.0)
    if k == 1:
        out[_DIVERGENCE] = out[_DISTINCTNESS] = out[_PARITY] = 0.0
        return
    # Weighted mean of |m_a - m_b| over distinct clusters, weights w_a w_b.
    square = entropy = csq = cent = 0.0
    means_sorted = means.copy()
    for c in range(k):
        square, csq = _acc(square, csq, share[c] * share[c])
        entropy, cent = _acc(entropy, cent, -share[c] * np.log(share[c]))
        if c:
            means_sorted[c] = max(means_sorted[c], means_sorted[c - 1])  # guard tiny rounding
    pair_weight = 1.0 - square
    out[_DIVERGENCE] = min(_sorted_abs_diff_sum(share, share, means_sorted) / pair_weight, 1.0)
    first, second = _two_largest(share)
    sep = abs(means[first] - means[second])
    spread_sum = sds[first] + sds[second]
    out[_DISTINCTNESS] = sep / (spread_sum + sep) if sep > 0.0 else 0.0
    out[_PARITY] = min(max(entropy / np.log(k), 0.0), 1.0)


@jit(**_JIT)
def _measures_sorted(xs, gap, minor_share, bins, alpha, out):
    """All measures (columns in `KEYS` order) of one sorted stance array, into `out`."""
    if xs.size == 0:
        out[:] = np.nan
        out[_COVERAGE] = out[_N_CLUSTERS] = out[_N_MAJOR] = out[_N_MINOR] = 0.0
        return
    _spreads(xs, gap, out)
    _group_senses(xs, gap, minor_share, out)
    out[_ER] = _esteban_ray_sorted(xs, bins, alpha)


@parallel_kernel(**_JIT)
def _level_measures(xs, bounds, gap, minor_share, bins, alpha, task, workers):
    """Measures of every level: `xs[bounds[l]:bounds[l + 1]]` are level l's stances, sorted.

    Level l is computed by parallel task `task[l]` of `workers` (`_tasks`). Who computes a level never
    changes its value.
    """
    k = bounds.size - 1
    out = np.empty((k, len(KEYS)))
    for w in nb.prange(workers):
        for lv in range(k):
            if task[lv] == w:
                _measures_sorted(xs[bounds[lv] : bounds[lv + 1]], gap, minor_share, bins, alpha, out[lv])
    return out


def _tasks(bounds: np.ndarray, workers: int) -> np.ndarray:
    """The parallel task of each level: by size, largest first, to the least loaded task (the first of equals).

    So one huge level (the whole population) runs alongside the many small ones instead of after
    them. In Python, not compiled: a sort inside the kernel took a second of its first compilation.
    """
    task = np.zeros(bounds.size - 1, dtype=np.int64)
    if workers > 1:
        sizes = np.diff(bounds) + 1
        heap = [(0, w) for w in range(workers)]
        for lv in np.argsort(-sizes, kind="stable").tolist():
            load, w = heapq.heappop(heap)
            task[lv] = w
            heapq.heappush(heap, (load + int(sizes[lv]), w))
    return task


@jit(**_JIT)
def _by_level(x, level, k, out):
    """Stances grouped by level into `out` (a counting sort, O(N)); returns the bounds of each level's block."""
    bounds = np.zeros(k + 1, dtype=np.int64)
    for i in range(x.size):
        bounds[level[i] + 1] += 1
    for lv in range(k):
        bounds[lv + 1] += bounds[lv]
    pos = bounds[:-1].copy()
    for i in range(x.size):
        out[pos[level[i]]] = x[i]
        pos[level[i]] += 1
    return bounds


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
    return float(_esteban_ray_sorted(np.sort(arr), bins, alpha))


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
    return float(_bimodality_sorted(np.sort(arr)))


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


def _check_measure_args(cluster_gap, minor_share, bins, er_alpha) -> tuple[float, float, int, float]:
    gap = _check_gap(cluster_gap)
    minor_share = float(minor_share)
    if not (0.0 <= minor_share <= 1.0):
        raise ValueError(f"minor_share must lie in [0, 1], got {minor_share!r}")
    bins, er_alpha = _check_bins_alpha(bins, er_alpha)
    return gap, minor_share, bins, er_alpha


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
    args = _check_measure_args(cluster_gap, minor_share, bins, er_alpha)
    xs = np.sort(_as_stances(x, unit_interval=True))
    bounds = np.array([0, xs.size], dtype=np.int64)
    row = _level_measures(xs, bounds, *args, _tasks(bounds, 1), 1)[0]
    return dict(zip(KEYS, row.tolist(), strict=True))


def polarization_by_level(
    x: np.ndarray,
    partitions: list[tuple[np.ndarray, int]],
    *,
    cluster_gap: float = 0.05,
    minor_share: float = 0.05,
    bins: int = 10,
    er_alpha: float = 1.6,
    out: np.ndarray | None = None,
) -> list[dict[str, np.ndarray]]:
    """`polarization_measures` of the agents of each level of each partition, in one compiled call.

    A partition (a scope: the groups, the professions, everyone in one level) is a pair
    (level, k): the level in [0, k) of every agent. Levels without agents get the
    empty-population values. Each level's stances are sorted with numpy's sort, several times
    faster than a compiled one; the measures then run in parallel over all levels of all
    partitions at once, so the threads share the big levels and the many small ones.

    Args:
        x: Stances in [0, 1].
        partitions: (level, k) pairs, level an integer array shaped like `x`.
        cluster_gap: As in `polarization_measures`.
        minor_share: As in `polarization_measures`.
        bins: As in `polarization_measures`.
        er_alpha: As in `polarization_measures`.
        out: float64 working array of at least N x the number of partitions, for the sorted stances
            (overwritten); a new one if not given.

    Returns:
        For each partition, measure key -> float64 array of its value in each level.
    """
    args = _check_measure_args(cluster_gap, minor_share, bins, er_alpha)
    arr = _as_stances(x, unit_interval=True)
    n = arr.size
    for level, k in partitions:
        _check_levels(level, k, n)
    if out is not None and (out.dtype != np.float64 or out.ndim != 1 or out.size < n * len(partitions)):
        raise ValueError(f"out must be a float64 array of at least {n * len(partitions)} values")
    xs = np.empty(n * len(partitions)) if out is None else out[: n * len(partitions)]
    jobs = ([arr] * len(partitions), partitions, [xs[p * n : (p + 1) * n] for p in range(len(partitions))])
    workers = min(len(partitions), nb.get_num_threads()) if n >= _THREADED_SORT else 1
    if workers > 1:  # numpy's sort and the compiled scatter release the GIL: partitions sort side by side
        with ThreadPoolExecutor(max_workers=workers) as pool:
            blocks = list(pool.map(_sort_within_levels, *jobs))
    else:
        blocks = list(map(_sort_within_levels, *jobs))
    bounds = np.concatenate([np.zeros(1, dtype=np.int64)] + [b[1:] + p * n for p, b in enumerate(blocks)])
    workers = nb.get_num_threads()
    table = _level_measures(xs, bounds, *args, _tasks(bounds, workers), workers)
    firsts = np.cumsum([k for _, k in partitions])[:-1]  # first row of each partition after the first
    return [{key: part[:, c] for c, key in enumerate(KEYS)} for part in np.split(table, firsts)][: len(partitions)]


def compile_level_grouping() -> None:
    """Compile (or load) the grouping of stances by level for the levels' types: groups (int32), professions (int8).

    The compile partner (`sim.run.partner`) calls it: the run's first record then finds both compiled.
    """
    x = np.zeros(2)
    for dtype in (np.int32, np.int8):
        _by_level(x, np.zeros(2, dtype=dtype), 1, np.empty(2))


def _sort_within_levels(x: np.ndarray, partition: tuple[np.ndarray, int], out: np.ndarray) -> np.ndarray:
    """Stances into `out` grouped by level and sorted within each level; returns the level bounds."""
    level, k = partition
    if k == 1:
        out[:] = x
        bounds = np.array([0, x.size], dtype=np.int64)
    else:
        bounds = _by_level(x, level, k, out)
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        out[lo:hi].sort()
    return bounds


def _check_levels(level: np.ndarray, k: int, n: int) -> None:
    if level.shape != (n,) or not np.issubdtype(level.dtype, np.integer):
        raise ValueError(f"level must be an integer array shaped like the stances, got {level.dtype} {level.shape}")
    if n and (int(level.min()) < 0 or int(level.max()) >= k):
        raise ValueError(f"levels must lie in [0, {k}), got range [{level.min()}, {level.max()}]")
