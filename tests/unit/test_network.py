"""Tests for sim.core.network: generated networks and user edge lists."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config.errors import ConfigError, InputFileError
from sim.core.network import (
    COMPILED_SBM_TIES,
    EdgeList,
    _integers_below,
    build_complete,
    build_sbm,
    build_small_world,
    group_of_agents,
    group_sizes,
    read_edge_list,
)


def assert_canonical(u: np.ndarray, v: np.ndarray, n: int) -> None:
    """The contract every builder promises its callers."""
    assert u.dtype == np.int64 and v.dtype == np.int64
    assert u.shape == v.shape and u.ndim == 1
    assert np.all(u < v), "u < v and no self-loops"
    assert u.size == 0 or (u.min() >= 0 and v.max() < n)
    key = u * n + v
    assert np.all(np.diff(key) > 0), "sorted by (u, v) without duplicates"


def ring_lattice(n: int, k: int) -> set[tuple[int, int]]:
    return {tuple(sorted((i, (i + s) % n))) for i in range(n) for s in range(1, k // 2 + 1)}


# --------------------------------------------------------------------------- groups


@pytest.mark.parametrize(
    ("n", "g", "expected"),
    [(10, 3, [4, 3, 3]), (9, 3, [3, 3, 3]), (5, 5, [1, 1, 1, 1, 1]), (7, 1, [7]), (11, 4, [3, 3, 3, 2])],
)
def test_group_sizes(n, g, expected):
    sizes = group_sizes(n, g)
    assert sizes.dtype == np.int64
    assert sizes.tolist() == expected


@pytest.mark.parametrize(("n", "g"), [(10, 0), (3, 4), (0, 1)])
def test_group_sizes_rejects_impossible_splits(n, g):
    with pytest.raises(ConfigError):
        group_sizes(n, g)


def test_group_of_agents_contiguous_blocks():
    groups = group_of_agents(np.array([4, 3, 3]))
    assert groups.dtype == np.int32
    assert groups.tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert group_of_agents(np.array([2, 0, 1])).tolist() == [0, 0, 2]


# --------------------------------------------------------------------------- SBM


def _split_counts(u, v, sizes):
    g = group_of_agents(sizes)
    same = g[u] == g[v]
    return int(same.sum()), int((~same).sum())


@pytest.mark.parametrize("sizes", [[200] * 5, [1, 7, 0, 30, 2, 50], [60], [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]])
@pytest.mark.parametrize(("p_in", "p_out"), [(0.1, 0.01), (0.8, 0.6), (0.5, 0.5)])
def test_sbm_invariants(sizes, p_in, p_out):
    sizes = np.array(sizes)
    u, v = build_sbm(sizes, p_in, p_out, np.random.default_rng(3))
    assert_canonical(u, v, int(sizes.sum()))


def test_sbm_deterministic_per_seed():
    sizes = group_sizes(1000, 7)
    a = build_sbm(sizes, 0.05, 0.005, np.random.default_rng(42))
    b = build_sbm(sizes, 0.05, 0.005, np.random.default_rng(42))
    c = build_sbm(sizes, 0.05, 0.005, np.random.default_rng(43))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[0].size != c[0].size or not (np.array_equal(a[0], c[0]) and np.array_equal(a[1], c[1]))


@pytest.mark.parametrize(("p_in", "p_out"), [(0.1, 0.01), (0.9, 0.7)])  # sparse and complement paths
def test_sbm_counts_match_binomial(p_in, p_out):
    sizes = np.full(5, 200)
    n_in = 5 * 200 * 199 // 2
    n_out = 1000 * 999 // 2 - n_in
    u, v = build_sbm(sizes, p_in, p_out, np.random.default_rng(7))
    within, between = _split_counts(u, v, sizes)
    assert abs(within - n_in * p_in) < 4 * np.sqrt(n_in * p_in * (1 - p_in))
    assert abs(between - n_out * p_out) < 4 * np.sqrt(n_out * p_out * (1 - p_out))


@pytest.mark.parametrize(("p_in", "p_out"), [(0.3, 0.6), (0.7, 0.2)])
def test_sbm_every_pair_has_its_probability(p_in, p_out):
    """Catches decoding that favours some pairs even when the counts are right."""
    sizes = np.array([4, 3])
    reps = 3000
    rng = np.random.default_rng(11)
    hits = np.zeros((7, 7))
    for _ in range(reps):
        u, v = build_sbm(sizes, p_in, p_out, rng)
        np.add.at(hits, (u, v), 1)
    g = group_of_agents(sizes)
    iu, iv = np.triu_indices(7, 1)
    p = np.where(g[iu] == g[iv], p_in, p_out)
    sd = np.sqrt(reps * p * (1 - p))
    assert np.all(np.abs(hits[iu, iv] - reps * p) < 4.5 * sd)
    assert np.all(np.tril(hits) == 0)


def test_sbm_cliques_when_p_in_one():
    sizes = np.array([3, 1, 4])
    u, v = build_sbm(sizes, 1.0, 0.0, np.random.default_rng(0))
    expected = [(0, 1), (0, 2), (1, 2), (4, 5), (4, 6), (4, 7), (5, 6), (5, 7), (6, 7)]
    assert list(zip(u.tolist(), v.tolist(), strict=False)) == expected


def test_sbm_complete_when_both_one():
    u, v = build_sbm(np.array([5, 6]), 1.0, 1.0, np.random.default_rng(0))
    cu, cv = build_complete(11)
    assert np.array_equal(u, cu) and np.array_equal(v, cv)


def test_sbm_empty_when_p_zero():
    u, v = build_sbm(np.array([50, 50]), 0.0, 0.0, np.random.default_rng(0))
    assert u.size == 0 and v.size == 0 and u.dtype == np.int64


@pytest.mark.parametrize(("p_in", "p_out"), [(-0.1, 0.0), (0.5, 1.5), (float("nan"), 0.1)])
def test_sbm_rejects_bad_probabilities(p_in, p_out):
    with pytest.raises(ConfigError):
        build_sbm(np.array([5, 5]), p_in, p_out, np.random.default_rng(0))


def test_sbm_large_sparse_builds():
    n = 200_000
    sizes = group_sizes(n, 2_000)
    p_in = 16 / (sizes[0] - 1)
    p_out = 4 / (n - sizes[0])
    u, v = build_sbm(sizes, p_in, p_out, np.random.default_rng(5))
    assert_canonical(u, v, n)
    assert 19 < 2 * u.size / n < 21
    within, _ = _split_counts(u, v, sizes)
    assert 15 < 2 * within / n < 17


# --------------------------------------------------------------------------- complete


@pytest.mark.parametrize("n", [0, 1, 2, 6, 301])
def test_complete(n):
    u, v = build_complete(n)
    assert u.size == n * (n - 1) // 2
    assert_canonical(u, v, max(n, 1))
    iu, iv = np.triu_indices(n, 1)
    assert np.array_equal(u, iu) and np.array_equal(v, iv)


def test_complete_size_limit():
    with pytest.raises(ConfigError) as err:
        build_complete(20_001)
    assert err.value.key == "n_agents"
    assert "20000" in str(err.value) and "complete" in str(err.value)


# --------------------------------------------------------------------------- small world


def test_small_world_beta_zero_is_ring_lattice():
    n, k = 30, 6
    u, v = build_small_world(n, k, 0.0, np.random.default_rng(0))
    assert set(zip(u.tolist(), v.tolist(), strict=False)) == ring_lattice(n, k)
    assert np.all(np.bincount(np.concatenate((u, v)), minlength=n) == k)


def test_small_world_beta_one_keeps_tie_count():
    n, k = 500, 10
    u, v = build_small_world(n, k, 1.0, np.random.default_rng(1))
    assert_canonical(u, v, n)
    assert u.size == n * k // 2
    assert len(set(zip(u.tolist(), v.tolist(), strict=False)) & ring_lattice(n, k)) < n * k // 2 * 0.1


def test_small_world_complete_lattice_cannot_rewire():
    u, v = build_small_world(5, 4, 1.0, np.random.default_rng(0))
    cu, cv = build_complete(5)
    assert np.array_equal(u, cu) and np.array_equal(v, cv)


def test_small_world_deterministic_and_large():
    a = build_small_world(100_000, 20, 0.1, np.random.default_rng(9))
    b = build_small_world(100_000, 20, 0.1, np.random.default_rng(9))
    c = build_small_world(100_000, 20, 0.1, np.random.default_rng(10))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    assert_canonical(*a, 100_000)
    assert a[0].size == 1_000_000


def test_small_world_exact_fallback_is_random_and_valid(monkeypatch):
    """Force the per-tie path that dense lattices end up in."""
    import sim.core.network

    monkeypatch.setattr(sim.core.network, "_MAX_REWIRE_ROUNDS", 0)
    seen = set()
    for seed in range(20):
        u, v = build_small_world(9, 4, 1.0, np.random.default_rng(seed))
        assert_canonical(u, v, 9)
        assert u.size == 18
        assert np.all(np.bincount(np.concatenate((u, v)), minlength=9) >= 2)
        seen.add((u.tobytes(), v.tobytes()))
    assert len(seen) > 10


@pytest.mark.parametrize(("n", "k"), [(10, 3), (10, 10), (10, 12), (10, -2)])
def test_small_world_rejects_bad_k(n, k):
    with pytest.raises(ConfigError) as err:
        build_small_world(n, k, 0.1, np.random.default_rng(0))
    assert err.value.key == "network.k"


@st.composite
def small_world_args(draw):
    n = draw(st.integers(1, 60))
    k = 2 * draw(st.integers(0, (n - 1) // 2))
    beta = draw(st.floats(0.0, 1.0))
    seed = draw(st.integers(0, 2**32 - 1))
    return n, k, beta, seed


@settings(max_examples=150, deadline=None)
@given(small_world_args())
def test_small_world_properties(args):
    n, k, beta, seed = args
    u, v = build_small_world(n, k, beta, np.random.default_rng(seed))
    assert_canonical(u, v, n)
    assert u.size == n * k // 2
    # Rewiring moves only the far end, so every node keeps its k/2 own ties.
    assert np.all(np.bincount(np.concatenate((u, v)), minlength=n) >= k // 2)
    u2, v2 = build_small_world(n, k, beta, np.random.default_rng(seed))
    assert np.array_equal(u, u2) and np.array_equal(v, v2)
    if beta == 0.0:
        assert set(zip(u.tolist(), v.tolist(), strict=False)) == ring_lattice(n, k)


# --------------------------------------------------------------------------- edge lists

HEADER = "source,target,source_group,target_group,source_profession,target_profession"


def write(tmp_path, text: str, name: str = "edges.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_edge_list_round_trip_string_labels(tmp_path):
    path = write(
        tmp_path,
        "weight,target_profession,target,source,source_group,target_group,note,source_profession\n"
        "1.0,health_care,bob,carol,teamB,teamA,x,social_work\n"
        "2.0,social_work,carol,bob,teamA,teamB,y,health_care\n"  # reverse duplicate
        "\n"
        "0.5,health_care,bob,alice,teamA,teamA,z,social_work\n"
        "0.5,health_care,bob,alice,teamA,teamA,z,social_work\n",  # exact duplicate
    )
    el = read_edge_list(path)
    assert isinstance(el, EdgeList)
    assert el.node_labels.tolist() == ["alice", "bob", "carol"]
    assert el.group_labels.tolist() == ["teamA", "teamB"]
    assert el.group.dtype == np.int32 and el.group.tolist() == [0, 0, 1]
    assert el.profession.dtype == np.int8 and el.profession.tolist() == [0, 1, 0]
    assert list(zip(el.u.tolist(), el.v.tolist(), strict=False)) == [(0, 1), (1, 2)]
    assert_canonical(el.u, el.v, 3)
    with pytest.raises(AttributeError):
        el.u = el.v  # frozen


def test_edge_list_integer_labels_sort_numerically(tmp_path):
    path = write(
        tmp_path,
        HEADER + "\n"
        "10,2,7,7,social_work,social_work\n"
        "33,10,12,7,health_care,social_work\n"
        "2,33,7,12,social_work,health_care\n",
    )
    el = read_edge_list(path)
    assert el.node_labels.dtype == np.int64 and el.node_labels.tolist() == [2, 10, 33]
    assert el.group_labels.tolist() == [7, 12]
    assert el.group.tolist() == [0, 0, 1]
    assert el.profession.tolist() == [0, 0, 1]
    assert list(zip(el.u.tolist(), el.v.tolist(), strict=False)) == [(0, 1), (0, 2), (1, 2)]


def test_edge_list_non_canonical_ints_stay_distinct(tmp_path):
    path = write(tmp_path, HEADER + "\n1,01,a,a,social_work,social_work\n")
    el = read_edge_list(path)
    assert el.node_labels.tolist() == ["01", "1"]
    assert el.u.tolist() == [0] and el.v.tolist() == [1]


def _error(path) -> InputFileError:
    with pytest.raises(InputFileError) as err:
        read_edge_list(path)
    return err.value


def test_edge_list_missing_columns(tmp_path):
    err = _error(write(tmp_path, "source,target,source_group,weight\n1,2,a,1\n"))
    assert err.line == 1
    msg = str(err)
    assert "line 1" in msg
    assert "target_group" in msg and "source_profession" in msg and "target_profession" in msg
    assert "required columns: source, target, source_group" in msg


def test_edge_list_wrong_field_count(tmp_path):
    err = _error(
        write(
            tmp_path,
            HEADER + "\n1,2,a,a,social_work,social_work\n\n1,3,a,a,social_work\n",
        )
    )
    assert err.line == 4 and "line 4" in str(err)
    assert "expected 6 fields" in str(err) and "found 5" in str(err)


def test_edge_list_line_numbers_count_physical_lines(tmp_path):
    err = _error(
        write(
            tmp_path,
            "note," + HEADER + '\n"two\nline note",1,2,a,a,social_work,social_work\nx,1,3,a,a,social_work,nurse\n',
        )
    )
    assert err.line == 4


def test_edge_list_error_in_multiline_record_names_its_first_line(tmp_path):
    err = _error(
        write(
            tmp_path,
            "note," + HEADER + '\nok,1,2,a,a,social_work,social_work\n"two\nline note",1,3,a,a,social_work,nurse\n',
        )
    )
    assert err.line == 3


@pytest.mark.parametrize(
    ("row", "needle"),
    [(",2,a,a,social_work,social_work", "empty source"), ("1, ,a,a,social_work,social_work", "empty target")],
)
def test_edge_list_empty_node(tmp_path, row, needle):
    err = _error(write(tmp_path, HEADER + "\n1,2,a,a,social_work,social_work\n" + row + "\n"))
    assert err.line == 3 and needle in str(err)


def test_edge_list_unknown_profession(tmp_path):
    err = _error(write(tmp_path, HEADER + "\n1,2,a,a,social_work,social_work\n2,3,a,a,social_work,nursing\n"))
    assert err.line == 3
    msg = str(err)
    assert "'nursing'" in msg and "social_work" in msg and "health_care" in msg


def test_edge_list_group_conflict(tmp_path):
    err = _error(
        write(
            tmp_path,
            HEADER + "\n"
            "1,2,a,a,social_work,social_work\n"
            "3,4,b,b,social_work,social_work\n"
            "2,4,z,b,social_work,social_work\n",
        )
    )
    assert err.line == 4
    msg = str(err)
    assert "node '2'" in msg and "'z'" in msg and "'a'" in msg and "line 2" in msg and "group" in msg


def test_edge_list_profession_conflict(tmp_path):
    err = _error(
        write(
            tmp_path,
            HEADER + "\n1,2,a,a,social_work,social_work\n3,1,a,a,health_care,health_care\n",
        )
    )
    assert err.line == 3
    msg = str(err)
    assert "node '1'" in msg and "'health_care'" in msg and "'social_work'" in msg
    assert "profession" in msg and "line 2" in msg


def test_edge_list_self_loop(tmp_path):
    err = _error(write(tmp_path, HEADER + "\n1,2,a,a,social_work,social_work\n5,5,a,a,social_work,social_work\n"))
    assert err.line == 3 and "self-loop" in str(err) and "'5'" in str(err)


def test_edge_list_missing_file(tmp_path):
    err = _error(tmp_path / "nope.csv")
    assert err.problem == "file not found" and err.line is None


@pytest.mark.parametrize("text", ["", "\n\n", HEADER + "\n", HEADER + "\n\n"])
def test_edge_list_no_edges(tmp_path, text):
    _error(write(tmp_path, text))


# --------------------------------------------------------------------------- SBM: compiled form


@pytest.mark.parametrize(
    ("sizes", "p_in", "p_out"),
    [
        ([200] * 5, 0.1, 0.01),
        ([1, 7, 0, 30, 2, 50], 0.8, 0.6),  # complement sampling, empty and one-agent groups
        ([60], 0.5, 0.5),
        ([3, 1, 4], 1.0, 0.0),
        ([50, 50], 0.0, 0.0),
        ([1000] * 40, 16 / 999, 4 / 39_000),  # the benchmark's network, 40,000 agents
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_sbm_compiled_form_gives_the_same_ties(sizes, p_in, p_out, seed):
    """The compiled form (large networks) draws the same random numbers and keeps the same ties, as int32."""
    sizes = np.array(sizes)
    u, v = build_sbm(sizes, p_in, p_out, np.random.default_rng(seed), compiled=False)
    cu, cv = build_sbm(sizes, p_in, p_out, np.random.default_rng(seed), compiled=True)
    assert cu.dtype == cv.dtype == np.int32 and u.dtype == np.int64
    assert np.array_equal(u, cu) and np.array_equal(v, cv)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 40), min_size=1, max_size=8),
    p_in=st.floats(0, 1),
    p_out=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_sbm_forms_agree_property(sizes, p_in, p_out, seed):
    sizes = np.array(sizes)
    a = build_sbm(sizes, p_in, p_out, np.random.default_rng(seed), compiled=False)
    b = build_sbm(sizes, p_in, p_out, np.random.default_rng(seed), compiled=True)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_sbm_chooses_the_compiled_form_for_large_networks():
    small = build_sbm(group_sizes(1000, 10), 0.1, 0.001, np.random.default_rng(0))
    n = COMPILED_SBM_TIES // 8  # mean degree 20, so 10 ties per agent: past the threshold
    large = build_sbm(group_sizes(n, n // 1000), 16 / 999, 4 / (n - 1000), np.random.default_rng(0))
    assert small[0].dtype == np.int64 and large[0].dtype == np.int32


@settings(max_examples=60, deadline=None)
@given(
    blocks=st.lists(
        st.tuples(
            st.one_of(st.integers(1, 50), st.integers(2**31 - 3, 2**32 + 3), st.integers(1, 2**62)),
            st.one_of(st.integers(0, 3), st.integers(60, 200)),
        ),
        min_size=1,
        max_size=12,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_block_draws_are_numpys_element_draws(blocks, seed):
    """`_integers_below` (one call per block) gives numpy's array-bounded draws and leaves the stream where they do.

    Bounds below, at and above 2**32 are mixed: numpy draws those below from 32-bit halves of its words.
    """
    sizes = np.array([s for s, _ in blocks], dtype=np.int64)
    need = np.array([k for _, k in blocks], dtype=np.int64)
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    expected = a.integers(0, np.repeat(sizes, need), dtype=np.int64)
    got = _integers_below(b, sizes, need)
    assert got.dtype == np.int64 and np.array_equal(got, expected)
    assert a.integers(0, 2**40, size=3).tolist() == b.integers(0, 2**40, size=3).tolist()
    assert a.integers(0, 7, size=3).tolist() == b.integers(0, 7, size=3).tolist()
