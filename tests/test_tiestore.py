import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import tiestore


def pairs_of(t: tiestore.Ties) -> set[tuple[int, int]]:
    u, v, _, _ = t.edges()
    return set(zip(u.tolist(), v.tolist(), strict=True))


def check_consistent(t: tiestore.Ties) -> None:
    alive = np.flatnonzero(t.nbr >= 0)
    owner = t.owner()
    rev = tiestore.reverse_slots(t, alive)
    assert np.all(rev >= 0)  # every arc has its reverse
    assert np.array_equal(tiestore.reverse_slots(t, rev), alive)  # reverses point back
    assert np.array_equal(owner[rev], t.nbr[alive])  # the reverse sits in the neighbour's block
    assert np.all(t.nbr[alive] != owner[alive])  # no self-loops
    key = owner[alive].astype(np.int64) * t.n_agents + t.nbr[alive]
    assert len(np.unique(key)) == len(key)  # no duplicate arcs


def test_from_edges_lays_out_both_arcs_with_spare_room():
    t = tiestore.from_edges(4, np.array([0, 0, 1]), np.array([1, 2, 3]), slack=0.0)
    assert pairs_of(t) == {(0, 1), (0, 2), (1, 3)}
    assert t.degree().tolist() == [2, 2, 1, 1]
    assert tiestore.free_slots(t).tolist() == [2, 2, 2, 2]  # at least two spare slots each
    check_consistent(t)


def test_cut_empties_both_arcs_and_ignores_empty_slots():
    t = tiestore.from_edges(3, np.array([0, 1]), np.array([1, 2]))
    s = t.indptr[0]  # agent 0's first slot holds 1
    assert t.nbr[s] == 1
    tiestore.cut(t, np.array([s]))
    assert pairs_of(t) == {(1, 2)}
    tiestore.cut(t, np.array([s]))  # already empty: nothing happens
    assert pairs_of(t) == {(1, 2)}
    check_consistent(t)


def test_connect_repacks_when_a_block_is_full_and_keeps_order():
    t = tiestore.from_edges(5, np.array([0, 0]), np.array([1, 2]), slack=0.0)
    before = [j for j in t.nbr[t.indptr[0]:t.indptr[1]].tolist() if j >= 0]
    tiestore.connect(t, np.array([0, 0]), np.array([3, 4]))
    block = t.nbr[t.indptr[0]:t.indptr[1]]
    assert block[block >= 0].tolist() == before + [3, 4]  # old ties keep their order, new ones follow
    assert pairs_of(t) == {(0, 1), (0, 2), (0, 3), (0, 4)}
    check_consistent(t)


def test_linked_scans_blocks():
    t = tiestore.from_edges(4, np.array([0, 2]), np.array([1, 3]))
    assert tiestore.linked(t, np.array([0, 1, 0, 3]), np.array([1, 0, 2, 2])).tolist() == [True, True, False, True]
    assert tiestore.linked(t, np.array([], dtype=np.int64), np.array([], dtype=np.int64)).tolist() == []


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 30), st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), max_size=80),
       st.lists(st.integers(0, 10_000), max_size=20), st.floats(0, 2))
def test_random_cuts_and_connects_keep_the_store_consistent(n, raw, cuts, slack):
    pairs = {(min(a % n, b % n), max(a % n, b % n)) for a, b in raw if a % n != b % n}
    half = sorted(pairs)[: len(pairs) // 2]
    rest = sorted(pairs)[len(pairs) // 2:]
    u = np.array([a for a, _ in half], dtype=np.int64)
    v = np.array([b for _, b in half], dtype=np.int64)
    t = tiestore.from_edges(n, u, v, slack)
    expected = set(half)
    alive = np.flatnonzero(t.nbr >= 0)
    if len(alive):
        chosen = alive[np.array(cuts, dtype=np.int64) % len(alive)] if cuts else alive[:0]
        for s in chosen:
            if t.nbr[s] >= 0:
                a, b = int(t.owner()[s]), int(t.nbr[s])
                expected.discard((min(a, b), max(a, b)))
        tiestore.cut(t, chosen)
    tiestore.connect(t, np.array([a for a, _ in rest], dtype=np.int64), np.array([b for _, b in rest], dtype=np.int64))
    expected |= set(rest)
    assert pairs_of(t) == expected
    check_consistent(t)
