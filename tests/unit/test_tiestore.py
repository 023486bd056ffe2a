import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core import tiestore
from tests.support.ties import check_consistent, pairs_of, ties_of


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
    before = [j for j in t.nbr[t.indptr[0] : t.indptr[1]].tolist() if j >= 0]
    tiestore.connect(t, np.array([0, 0]), np.array([3, 4]))
    block = t.nbr[t.indptr[0] : t.indptr[1]]
    assert block[block >= 0].tolist() == before + [3, 4]  # old ties keep their order, new ones follow
    assert pairs_of(t) == {(0, 1), (0, 2), (0, 3), (0, 4)}
    check_consistent(t)


def test_cut_closes_the_gap_and_connect_appends_so_order_is_the_tie_history():
    t = tiestore.from_edges(5, np.array([0, 0, 0, 0]), np.array([1, 2, 3, 4]), slack=1.0)
    tiestore.cut(t, np.array([t.indptr[0] + 1]))  # 0-2
    assert ties_of(t, 0) == [1, 3, 4] and t.nbr[t.indptr[0] + 3] == tiestore.EMPTY
    tiestore.connect(t, np.array([2]), np.array([0]))
    assert ties_of(t, 0) == [1, 3, 4, 2]  # appended, not put back where 2 was
    tiestore.cut(t, np.array([t.indptr[0], t.indptr[0] + 2]))  # 0-1 and 0-4 at once
    assert ties_of(t, 0) == [3, 2]
    check_consistent(t)


def test_a_full_block_takes_room_from_its_neighbours_without_reordering_anyones_ties():
    t = tiestore.from_edges(6, np.array([0, 1, 2, 3, 4]), np.array([1, 2, 3, 4, 5]), slack=1.0)
    before = {i: ties_of(t, i) for i in range(6)}
    size = len(t.nbr)
    tiestore.connect(t, np.array([2, 2]), np.array([0, 5]))  # 2 is full: two ties plus two spare slots
    assert len(t.nbr) == size  # no re-pack: the blocks around 2 gave up free slots
    before[2] += [0, 5]
    before[0] += [2]
    before[5] += [2]
    assert {i: ties_of(t, i) for i in range(6)} == before
    check_consistent(t)


def test_without_nearby_room_every_block_is_repacked_the_same_way(monkeypatch):
    t = tiestore.from_edges(6, np.array([0, 1, 2, 3, 4]), np.array([1, 2, 3, 4, 5]), slack=0.0)
    wide = t.copy()
    monkeypatch.setattr(tiestore, "REACH", 1)  # no window: the global re-pack
    tiestore.connect(t, np.array([2, 2, 2]), np.array([0, 5, 4]))
    assert len(t.nbr) > len(wide.nbr)
    monkeypatch.undo()
    tiestore.connect(wide, np.array([2, 2, 2]), np.array([0, 5, 4]))
    assert wide.indptr[-1] == 22  # the room came from the other blocks' spare slots: no re-pack
    assert all(ties_of(t, i) == ties_of(wide, i) for i in range(6))
    check_consistent(t)
    check_consistent(wide)


def test_arrays_built_with_holes_are_made_compact():
    indptr = np.array([0, 3, 6], dtype=np.int32)
    nbr = np.array([-1, 1, -1, -1, -1, 0], dtype=np.int32)
    t = tiestore.Ties(indptr, nbr, np.array([0, 1, 0, 0, 0, 0], dtype=bool), np.zeros(6, dtype=np.uint8))
    assert t.nbr.tolist() == [1, -1, -1, 0, -1, -1] and t.muted.tolist() == [True] + [False] * 5
    assert t.mutes.tolist() == [True, False]


def test_linked_scans_blocks():
    t = tiestore.from_edges(4, np.array([0, 2]), np.array([1, 3]))
    pairs = [(0, 1), (1, 0), (0, 2), (3, 2)]
    assert [tiestore.linked_nb(t.indptr, t.nbr, i, j) for i, j in pairs] == [True, True, False, True]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 30),
    st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), max_size=80),
    st.lists(st.integers(0, 10_000), max_size=20),
    st.floats(0, 2),
    st.integers(0, 2**16),
)
def test_random_cuts_and_connects_keep_the_store_consistent(n, raw, cuts, slack, shuffle):
    pairs = {(min(a % n, b % n), max(a % n, b % n)) for a, b in raw if a % n != b % n}
    half = sorted(pairs)[: len(pairs) // 2]
    rest = sorted(pairs)[len(pairs) // 2 :]
    rng = np.random.default_rng(shuffle)  # formed in any order, either end first: each block's order is the given one
    rest = [(b, a) if rng.random() < 0.5 else (a, b) for a, b in (rest[k] for k in rng.permutation(len(rest)))]
    u = np.array([a for a, _ in half], dtype=np.int64)
    v = np.array([b for _, b in half], dtype=np.int64)
    t = tiestore.from_edges(n, u, v, slack)
    expected = set(half)
    order = {i: sorted([b for a, b in half if a == i] + [a for a, b in half if b == i]) for i in range(n)}
    alive = np.flatnonzero(t.nbr >= 0)
    if len(alive):
        chosen = alive[np.array(cuts, dtype=np.int64) % len(alive)] if cuts else alive[:0]
        for s in chosen:
            if t.nbr[s] >= 0:
                a, b = int(t.owner()[s]), int(t.nbr[s])
                if (min(a, b), max(a, b)) in expected:
                    order[a].remove(b)
                    order[b].remove(a)
                expected.discard((min(a, b), max(a, b)))
        tiestore.cut(t, chosen)
    tiestore.connect(t, np.array([a for a, _ in rest], dtype=np.int64), np.array([b for _, b in rest], dtype=np.int64))
    for a, b in rest:  # appended, in the given order
        order[a].append(b)
        order[b].append(a)
    expected |= {(min(a, b), max(a, b)) for a, b in rest}
    assert pairs_of(t) == expected
    assert {i: ties_of(t, i) for i in range(n)} == order  # the order is the tie history, whatever the room
    check_consistent(t)


@settings(max_examples=200, deadline=None)
@given(blocks=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 9)), min_size=1, max_size=12))
def test_counting_and_indexing_a_compact_block_needs_no_scan(blocks):
    """A block's ties fill its start: the count is found by bisection and the k-th tie is slot indptr + k."""
    from sim.classics.common import nth_alive_nb

    indptr = np.cumsum([0] + [alive + free for alive, free in blocks]).astype(np.int64)
    nbr = np.concatenate([np.r_[np.arange(alive) + 1, np.full(free, tiestore.EMPTY)] for alive, free in blocks])
    nbr = nbr.astype(np.int32) if nbr.size else np.zeros(0, dtype=np.int32)
    for i, (alive, _) in enumerate(blocks):
        scanned = [s for s in range(indptr[i], indptr[i + 1]) if nbr[s] >= 0]
        assert tiestore.alive_count_nb(indptr, nbr, i) == alive == len(scanned)
        for k in range(-1, alive + 2):
            assert nth_alive_nb(indptr, nbr, i, k) == (scanned[k] if 0 <= k < alive else -1)


@settings(max_examples=30, deadline=None)
@given(edges=st.sets(st.tuples(st.integers(0, 29), st.integers(0, 29))), rows=st.integers(1, 50))
def test_edge_chunks_are_the_edges_in_pieces(edges, rows):
    """edges.parquet is written piece by piece: the pieces, in order, are `edges()`, each of whole blocks."""
    pairs = sorted({(min(a, b), max(a, b)) for a, b in edges if a != b})
    u = np.array([a for a, _ in pairs], dtype=np.int64)
    v = np.array([b for _, b in pairs], dtype=np.int64)
    t = tiestore.from_edges(30, u, v)
    if len(u):
        t.muted[t.indptr[int(u[0])]] = True  # one mute, so the muted columns are read too
    pieces = list(t.edge_chunks(rows))
    whole = t.edges()
    for k in range(4):
        assert np.array_equal(np.concatenate([p[k] for p in pieces] or [whole[k][:0]]), whole[k])
    for a, b in zip(pieces[:-1], pieces[1:], strict=True):  # an agent's ties never split between two pieces
        assert len(a[0]) == 0 or len(b[0]) == 0 or a[0][-1] != b[0][0]
    assert all(len(p[0]) <= rows + 29 for p in pieces)  # about `rows`: at most one block more


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 90),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_edges_are_sorted_pairs_with_their_mutes_at_any_degree(n, density, seed):
    """`edges()` lists u < v sorted, with each end's mute, whatever the block order and the degree.

    Dense cases give agents more than `_FEW_TIES` ties to higher neighbours (the sorted path), sparse
    ones fewer (insertion); ties formed after cuts leave blocks out of neighbour order.
    """
    rng = np.random.default_rng(seed)
    iu, iv = np.triu_indices(n, 1)
    pick = rng.random(len(iu)) < density
    u, v = iu[pick].astype(np.int64), iv[pick].astype(np.int64)
    t = tiestore.from_edges(n, u, v)
    if len(u):  # cut some, form them again in a random order: blocks no longer sorted
        gone = rng.permutation(len(u))[: len(u) // 3]
        for k in gone:
            tiestore.cut(t, np.array([tiestore.slot_of_nb(t.indptr, t.nbr, u[k], v[k], -1)]))
        back = rng.permutation(gone)
        tiestore.connect(t, u[back], v[back])
    alive = np.flatnonzero(t.nbr >= 0)
    t.muted[alive] = rng.random(len(alive)) < 0.3
    owner = t.owner()
    t.mutes[owner[alive[t.muted[alive]]]] = True  # as every mute does: its block may hold a muted slot
    mute = {(int(owner[s]), int(t.nbr[s])): bool(t.muted[s]) for s in alive}
    pairs = sorted((a, b) for a, b in mute if a < b)
    eu, ev, mu, mv = t.edges()
    assert list(zip(eu.tolist(), ev.tolist(), strict=True)) == pairs
    assert mu.tolist() == [mute[(a, b)] for a, b in pairs]
    assert mv.tolist() == [mute[(b, a)] for a, b in pairs]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 50), max_size=60), st.integers(0, 60))
def test_the_room_asked_for_is_each_end_counted_once_and_none_elsewhere(ends, block):
    """`ensure_room` passes each distinct end with its count (np.unique's), and a block not among them needs 0."""
    ends = np.sort(np.array(ends, dtype=np.int64))
    who, count = tiestore._run_lengths(ends)
    values, counts = np.unique(ends, return_counts=True)
    assert who.tolist() == values.tolist() and count.tolist() == counts.tolist()
    dense = np.bincount(ends, minlength=61)
    assert tiestore._need(who, count, np.int64(block)) == dense[block]
