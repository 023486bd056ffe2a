"""Tests for sim.metrics.polarization: hand-computed cases, brute-force references, invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.metrics.polarization import (
    bimodality_coefficient,
    esteban_ray,
    opinion_assortativity,
    opinion_clusters,
    polarization_measures,
)

KEYS = {
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
}

# Stances in [0, 1]; a few repeated values so that ties, clusters and empty bins occur.
_stance = st.one_of(
    st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 0.02, 0.3, 0.5, 0.97, 1.0]),
)
stances = hnp.arrays(np.float64, st.integers(0, 200), elements=_stance)
FAST = settings(max_examples=60, deadline=None)


# ---------------------------------------------------------------- brute-force references


def ref_pairwise(x: np.ndarray) -> float:
    n = x.size
    if n < 2:
        return math.nan
    return float(np.abs(x[:, None] - x[None, :]).sum() / (n * (n - 1)))


def ref_coverage(x: np.ndarray, r: float, cells: int = 50_000) -> tuple[float, float]:
    """Covered share of [0, 1] on a midpoint grid, with its worst-case error."""
    h = 1.0 / cells
    grid = (np.arange(cells) + 0.5) * h
    covered = np.zeros(cells, dtype=bool)
    for xi in x:
        covered |= np.abs(grid - xi) <= r
    # Each of the at most len(x) merged intervals is off by at most one cell.
    return float(covered.mean()), (x.size + 1) * h


def ref_clusters(x: np.ndarray, gap: float) -> list[int]:
    """Connected components of the graph |x_i - x_j| <= gap, ordered by stance."""
    n = x.size
    label = list(range(n))

    def find(i: int) -> int:
        while label[i] != i:
            label[i] = label[label[i]]
            i = label[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if abs(x[i] - x[j]) <= gap:
                label[find(i)] = find(j)
    groups: dict[int, list[float]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(x[i])
    return [len(g) for g in sorted(groups.values(), key=min)]


def ref_esteban_ray(x: np.ndarray, bins: int, alpha: float) -> float:
    n = x.size
    if n == 0:
        return math.nan
    members: list[list[float]] = [[] for _ in range(bins)]
    for xi in x:
        members[min(int(xi * bins), bins - 1)].append(xi)
    pi = [len(m) / n for m in members]
    y = [sum(m) / len(m) if m else 0.0 for m in members]
    total = 0.0
    for a in range(bins):
        for b in range(bins):
            total += pi[a] ** (1 + alpha) * pi[b] * abs(y[a] - y[b])
    return total / (2 * 0.5 ** (2 + alpha))


def ref_assortativity(x: np.ndarray, u: np.ndarray, v: np.ndarray) -> float:
    a = np.concatenate([x[u], x[v]])
    b = np.concatenate([x[v], x[u]])
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.corrcoef(a, b)[0, 1])


# ---------------------------------------------------------------- hand-computed cases


def test_two_extreme_camps():
    m = polarization_measures(np.array([0.0, 0.0, 1.0, 1.0]))
    assert set(m) == KEYS
    assert all(type(v) is float for v in m.values())
    assert m["spread"] == 1.0
    assert m["dispersion"] == pytest.approx(0.5)
    assert m["mean_abs_dev"] == pytest.approx(0.5)
    assert m["pairwise_dispersion"] == pytest.approx(8 / 12)  # 8 of 12 ordered pairs differ by 1
    assert m["coverage"] == pytest.approx(0.05)  # [0, .025] and [.975, 1]
    assert (m["n_clusters"], m["n_major_clusters"], m["n_minor_clusters"]) == (2.0, 2.0, 0.0)
    assert m["group_divergence"] == pytest.approx(1.0)
    assert m["group_consensus"] == pytest.approx(1.0)
    assert m["distinctness"] == pytest.approx(1.0)
    assert m["size_parity"] == pytest.approx(1.0)
    # n = 4: G1 = 0, G2 = 1.5 * (5 * -2 + 6) = -6, BC = 1 / (-6 + 27 / 2) = 2 / 15.
    assert m["bimodality"] == pytest.approx(2 / 15)
    assert m["esteban_ray"] == pytest.approx(1.0)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0, 1.6])
@pytest.mark.parametrize("n_each", [1, 7, 500])
def test_esteban_ray_normalization(alpha, n_each):
    x = np.repeat([0.0, 1.0], n_each)
    assert esteban_ray(x, alpha=alpha) == pytest.approx(1.0, abs=1e-12)
    assert esteban_ray(x, bins=2, alpha=alpha) == pytest.approx(1.0, abs=1e-12)


def test_three_equal_clusters():
    x = np.repeat([0.0, 0.5, 1.0], 2)
    m = polarization_measures(x)
    assert m["dispersion"] == pytest.approx(math.sqrt(1 / 6))
    assert m["mean_abs_dev"] == pytest.approx(1 / 3)
    # Ordered pairs: 4 * (0.5 + 1 + 0.5) * 2 = 16 over 6 * 5.
    assert m["pairwise_dispersion"] == pytest.approx(16 / 30)
    assert m["coverage"] == pytest.approx(0.025 + 0.05 + 0.025)
    assert m["n_clusters"] == 3.0
    assert m["group_divergence"] == pytest.approx(2 / 3)  # mean of 0.5, 1, 0.5
    assert m["group_consensus"] == pytest.approx(1.0)
    assert m["distinctness"] == pytest.approx(1.0)
    assert m["size_parity"] == pytest.approx(1.0)
    # pi = 1/3 at y = 0, .5, 1: K * 3**-3.6 * 4 with K = 2**2.6.
    assert m["esteban_ray"] == pytest.approx(2**4.6 / 3**3.6)


def test_single_cluster():
    x = np.array([0.46, 0.40, 0.44, 0.42])
    m = polarization_measures(x)
    assert m["spread"] == pytest.approx(0.06)
    assert m["coverage"] == pytest.approx(0.485 - 0.375)
    assert (m["n_clusters"], m["n_major_clusters"], m["n_minor_clusters"]) == (1.0, 1.0, 0.0)
    assert m["group_divergence"] == 0.0
    assert m["distinctness"] == 0.0
    assert m["size_parity"] == 0.0
    assert m["group_consensus"] == pytest.approx(1 - 2 * math.sqrt(5e-4))
    assert m["esteban_ray"] == 0.0  # all agents in bin [0.4, 0.5)


def test_unequal_clusters_group_measures():
    # Clusters A = {0, .04}, B = {.5, .54}, C = {1}: means .02, .52, 1; sds .02, .02, 0.
    m = polarization_measures(np.array([1.0, 0.54, 0.0, 0.5, 0.04]))
    assert m["n_clusters"] == 3.0
    assert m["distinctness"] == pytest.approx(0.5 / (0.04 + 0.5))  # two largest are A and B
    # Pair weights 4, 2, 2 (x 1/25) on |diffs| .5, .98, .48.
    assert m["group_divergence"] == pytest.approx((4 * 0.5 + 2 * 0.98 + 2 * 0.48) / 8)
    assert m["group_consensus"] == pytest.approx(1 - 2 * (0.4 * 0.02 + 0.4 * 0.02))
    h = -(2 * 0.4 * math.log(0.4) + 0.2 * math.log(0.2))
    assert m["size_parity"] == pytest.approx(h / math.log(3))
    # mean = 2.08 / 5 = .416; |deviations| = .584, .124, .416, .084, .376
    assert m["mean_abs_dev"] == pytest.approx(1.584 / 5)


def test_major_minor_rule_boundary():
    x = np.array([0.0] * 19 + [1.0])
    m = polarization_measures(x, minor_share=0.1)
    assert (m["n_clusters"], m["n_major_clusters"], m["n_minor_clusters"]) == (2.0, 1.0, 1.0)
    m = polarization_measures(x, minor_share=0.05)  # 1/20 is "at least" 5 %
    assert (m["n_major_clusters"], m["n_minor_clusters"]) == (2.0, 0.0)


def test_opinion_clusters_gap_rule():
    x = np.array([0.9, 0.1, 0.15, 0.5, 0.21, 0.95])
    sizes = opinion_clusters(x, 0.05)
    assert sizes.dtype == np.int64
    # sorted: .1 .15 | .21 | .5 | .9 .95  (gaps of exactly .05 join; .06 splits)
    assert sizes.tolist() == [2, 1, 1, 2]
    assert opinion_clusters(x, 1.0).tolist() == [6]
    assert opinion_clusters(np.array([]), 0.1).tolist() == []


def test_empty_and_single_agent():
    m = polarization_measures(np.array([]))
    assert set(m) == KEYS
    assert (m["n_clusters"], m["coverage"]) == (0.0, 0.0)
    assert math.isnan(m["spread"]) and math.isnan(m["esteban_ray"]) and math.isnan(m["size_parity"])
    m = polarization_measures(np.array([0.3]))
    assert m["spread"] == 0.0 and m["dispersion"] == 0.0
    assert math.isnan(m["pairwise_dispersion"]) and math.isnan(m["bimodality"])
    assert m["n_clusters"] == 1.0 and m["esteban_ray"] == 0.0
    assert m["coverage"] == pytest.approx(0.05)


def test_bimodality_reference_shapes():
    rng = np.random.default_rng(1)
    assert bimodality_coefficient(rng.random(200_000)) == pytest.approx(5 / 9, abs=0.01)  # uniform
    assert bimodality_coefficient(rng.normal(size=200_000)) == pytest.approx(1 / 3, abs=0.01)
    assert bimodality_coefficient(np.repeat([0.0, 1.0], 10_000)) == pytest.approx(1.0, abs=1e-3)
    assert math.isnan(bimodality_coefficient(np.array([0.1, 0.2, 0.3])))
    assert math.isnan(bimodality_coefficient(np.full(10, 0.4)))


def test_assortativity_hand_cases():
    x = np.array([0.0, 0.0, 1.0, 1.0])
    assert opinion_assortativity(x, np.array([0, 2]), np.array([1, 3])) == pytest.approx(1.0)
    assert opinion_assortativity(x, np.array([0, 1]), np.array([2, 3])) == pytest.approx(-1.0)
    assert math.isnan(opinion_assortativity(x, np.array([], int), np.array([], int)))
    assert math.isnan(opinion_assortativity(np.full(4, 0.5), np.array([0, 1]), np.array([2, 3])))


def test_input_validation():
    with pytest.raises(ValueError):
        polarization_measures(np.array([0.5, 1.2]))
    with pytest.raises(ValueError):
        polarization_measures(np.array([0.5, np.nan]))
    with pytest.raises(ValueError):
        polarization_measures(np.zeros((2, 2)))
    with pytest.raises(ValueError):
        esteban_ray(np.array([0.5]), alpha=2.0)
    with pytest.raises(ValueError):
        esteban_ray(np.array([0.5]), bins=0)
    with pytest.raises(ValueError):
        opinion_clusters(np.array([0.5]), -0.1)
    with pytest.raises(ValueError):
        opinion_assortativity(np.zeros(3), np.array([0, 3]), np.array([1, 2]))
    with pytest.raises(ValueError):
        opinion_assortativity(np.zeros(3), np.array([-1]), np.array([1]))


def test_million_agents_runs():
    x = np.random.default_rng(0).random(1_000_000)
    m = polarization_measures(x)
    assert set(m) == KEYS
    assert m["coverage"] == pytest.approx(1.0)
    assert m["pairwise_dispersion"] == pytest.approx(1 / 3, abs=2e-3)
    assert m["dispersion"] == pytest.approx(math.sqrt(1 / 12), abs=2e-3)


# ---------------------------------------------------------------- references on random inputs


@FAST
@given(stances)
def test_pairwise_dispersion_matches_brute_force(x):
    got = polarization_measures(x)["pairwise_dispersion"]
    want = ref_pairwise(x)
    if math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


@FAST
@given(stances, st.floats(0.0, 0.3))
def test_coverage_matches_grid(x, gap):
    got = polarization_measures(x, cluster_gap=gap)["coverage"]
    want, tol = ref_coverage(x, gap / 2)
    assert abs(got - want) <= tol


@FAST
@given(stances, st.floats(0.0, 0.2))
def test_clusters_match_connected_components(x, gap):
    assert opinion_clusters(x, gap).tolist() == ref_clusters(x, gap)
    m = polarization_measures(x, cluster_gap=gap)
    assert m["n_clusters"] == len(ref_clusters(x, gap))


@FAST
@given(stances, st.integers(1, 25), st.floats(0.0, 1.6))
def test_esteban_ray_matches_double_loop(x, bins, alpha):
    got = esteban_ray(x, bins=bins, alpha=alpha)
    want = ref_esteban_ray(x, bins, alpha)
    if math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12)
    if x.size:
        m = polarization_measures(x, bins=bins, er_alpha=alpha)
        assert m["esteban_ray"] == pytest.approx(got)


@FAST
@given(hnp.arrays(np.float64, st.integers(4, 200), elements=_stance))
def test_bimodality_matches_scipy(x):
    stats = pytest.importorskip("scipy.stats")
    got = bimodality_coefficient(x)
    if np.ptp(x) == 0:
        assert math.isnan(got)
        return
    with np.errstate(invalid="ignore", divide="ignore"):  # scipy underflows on tiny spreads
        g = stats.skew(x, bias=False)
        k = stats.kurtosis(x, fisher=True, bias=False)
    n = x.size
    want = (g**2 + 1) / (k + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
    if not math.isnan(want):  # scipy underflows to nan on subnormal-scale spreads
        assert got == pytest.approx(want, rel=1e-6)
    assert 0.0 < got < 1.0


@st.composite
def graphs(draw):
    x = draw(hnp.arrays(np.float64, st.integers(2, 60), elements=_stance))
    n = x.size
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=150))
    edges = sorted({(min(a, b), max(a, b)) for a, b in pairs if a != b})
    u = np.array([e[0] for e in edges], dtype=np.int64)
    v = np.array([e[1] for e in edges], dtype=np.int64)
    return x, u, v


@FAST
@given(graphs())
def test_assortativity_matches_reference(g):
    x, u, v = g
    got = opinion_assortativity(x, u, v)
    if u.size == 0 or np.ptp(np.concatenate([x[u], x[v]])) == 0:
        assert math.isnan(got)
        return
    want = ref_assortativity(x, u, v)
    # np.corrcoef underflows to nan on subnormal-scale spreads, and loses the correlation to rounding when
    # the stances differ only in their last bits (x = [1, 1 - 2**-53] on one tie: exactly -1, corrcoef 0)
    if not math.isnan(want) and np.ptp(np.concatenate([x[u], x[v]])) > 1e-9:
        assert got == pytest.approx(want, abs=1e-9)
    # Reversing tie direction must not matter for an undirected measure.
    assert opinion_assortativity(x, v, u) == pytest.approx(got, abs=1e-12)


def test_assortativity_matches_networkx():
    nx = pytest.importorskip("networkx")
    rng = np.random.default_rng(3)
    for _ in range(5):
        G = nx.gnm_random_graph(80, 200, seed=int(rng.integers(1 << 30)))
        x = rng.random(80)
        nx.set_node_attributes(G, {i: float(x[i]) for i in G}, "x")
        u, v = (np.array(c, dtype=np.int64) for c in zip(*G.edges(), strict=False))
        want = nx.numeric_assortativity_coefficient(G, "x")
        assert opinion_assortativity(x, u, v) == pytest.approx(want, abs=1e-9)
    # A stance-sorted ring (neighbours have similar stances) is strongly assortative.
    order = np.argsort(x)
    assert opinion_assortativity(x, order, np.roll(order, -1)) > 0.9


# ---------------------------------------------------------------- invariants

BOUNDED = {
    "spread": (0.0, 1.0),
    "dispersion": (0.0, 0.5),
    "mean_abs_dev": (0.0, 0.5),
    "pairwise_dispersion": (0.0, 1.0),
    "coverage": (0.0, 1.0),
    "group_divergence": (0.0, 1.0),
    "group_consensus": (0.0, 1.0),
    "distinctness": (0.0, 1.0),
    "size_parity": (0.0, 1.0),
    "bimodality": (0.0, 1.0),
    "esteban_ray": (0.0, 1.0),
}


@FAST
@given(stances, st.floats(0.0, 0.3), st.floats(0.0, 1.0), st.integers(1, 30), st.floats(0.0, 1.6))
def test_ranges_and_counts(x, gap, minor, bins, alpha):
    m = polarization_measures(x, cluster_gap=gap, minor_share=minor, bins=bins, er_alpha=alpha)
    assert set(m) == KEYS
    for key, (lo, hi) in BOUNDED.items():
        val = m[key]
        if not math.isnan(val):
            assert lo <= val <= hi, (key, val)
    sizes = opinion_clusters(x, gap)
    assert sizes.sum() == x.size
    assert m["n_clusters"] == sizes.size
    assert m["n_major_clusters"] + m["n_minor_clusters"] == m["n_clusters"]
    lo_major = np.count_nonzero(sizes >= minor * x.size + 1e-9)
    hi_major = np.count_nonzero(sizes >= minor * x.size - 1e-9)
    assert lo_major <= m["n_major_clusters"] <= hi_major
    if x.size:
        assert not math.isnan(m["spread"]) and not math.isnan(m["esteban_ray"])
        assert x.size < 2 or m["pairwise_dispersion"] <= m["spread"] + 1e-12
    if x.size >= 2:
        assert m["mean_abs_dev"] <= m["dispersion"] + 1e-12  # Jensen


@FAST
@given(stances, st.randoms(use_true_random=False))
def test_permutation_invariance(x, rnd):
    perm = x.copy()
    rnd.shuffle(perm)
    a, b = polarization_measures(x), polarization_measures(perm)
    for key in KEYS:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-15, err_msg=key)
    np.testing.assert_array_equal(opinion_clusters(x, 0.05), opinion_clusters(perm, 0.05))
    if x.size >= 4:
        bc_x, bc_perm = bimodality_coefficient(x), bimodality_coefficient(perm)
        np.testing.assert_allclose(bc_x, bc_perm, rtol=1e-12)


@FAST
@given(st.floats(0.0, 1.0), st.integers(1, 300))
def test_consensus(value, n):
    x = np.full(n, value)
    m = polarization_measures(x)
    assert m["spread"] == 0.0
    assert m["dispersion"] == 0.0 and m["mean_abs_dev"] == 0.0
    assert m["n_clusters"] == 1.0
    assert m["esteban_ray"] == 0.0
    assert m["group_consensus"] == 1.0
    assert m["group_divergence"] == 0.0 and m["distinctness"] == 0.0
    assert math.isnan(m["bimodality"])
    if n >= 2:
        assert m["pairwise_dispersion"] == 0.0


def test_slot_kernels_match_the_edge_list_definitions():
    """Degrees and per-level assortativity from the slots agree with the edge-list versions."""
    from sim.core import tiestore
    from sim.core.tiestore import degrees
    from sim.metrics.tiestats import level_assortativity

    rng = np.random.default_rng(3)
    n = 300
    pairs = {tuple(sorted(p)) for p in rng.integers(0, n, size=(1500, 2)) if p[0] != p[1]}
    u, v = np.array(sorted(pairs)).T
    ties = tiestore.from_edges(n, u, v, slack=0.5)
    tiestore.cut(ties, np.flatnonzero(ties.nbr >= 0)[::7])  # holes in the blocks
    group = rng.integers(0, 4, n)
    x = rng.random(n)
    x[group == 3] = 0.25  # one level whose tie ends all agree: undefined
    uu, vv, _, _ = ties.edges()
    deg, in_deg = degrees(ties.indptr, ties.nbr, group)
    assert deg.tolist() == np.bincount(np.concatenate([uu, vv]), minlength=n).tolist()
    same = group[uu] == group[vv]
    assert in_deg.tolist() == np.bincount(np.concatenate([uu[same], vv[same]]), minlength=n).tolist()
    got = level_assortativity(ties.indptr, ties.nbr, x, group, 4)
    for lv in range(3):
        keep = (group[uu] == lv) & (group[vv] == lv)
        assert got[lv] == pytest.approx(opinion_assortativity(x, uu[keep], vv[keep]), abs=1e-12)
    assert np.isnan(got[3])
    whole = level_assortativity(ties.indptr, ties.nbr, x, np.zeros(n, dtype=np.int64), 1)
    assert whole[0] == pytest.approx(opinion_assortativity(x, uu, vv), abs=1e-12)
    from sim.metrics.tiestats import scope_arcs, scope_assortativity

    prof = rng.integers(0, 2, n)
    cell = (group << 1) | prof
    arcs, far = scope_arcs(ties.indptr, ties.nbr, x, cell, 1)  # all ties, in-group, in-profession in one pass
    assert arcs[0].tolist() == deg.tolist() and arcs[1].tolist() == in_deg.tolist()
    scoped = scope_assortativity(x, cell, 1, arcs, far, np.array([0, 1, 2]), np.array([1, 4, 2]))
    assert scoped[0, 0] == whole[0] and np.array_equal(scoped[1], got, equal_nan=True)
    for lv in range(2):
        keep = (prof[uu] == lv) & (prof[vv] == lv)
        assert scoped[2, lv] == pytest.approx(opinion_assortativity(x, uu[keep], vv[keep]), abs=1e-12)
