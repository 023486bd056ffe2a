"""Tie structures between agents: generated networks and user-supplied edge lists.

Every builder returns undirected ties as two integer arrays ``(u, v)`` (int64; int32 from the compiled
form of the SBM builder, for large networks) with ``u < v``,
no self-loops, no duplicate pairs, sorted by ``(u, v)``. Randomness comes only from
the ``numpy.random.Generator`` passed in, so one seed always gives one network.
"""

from __future__ import annotations

import os
from collections import defaultdict

import numba as nb
import numpy as np

from sim.config.errors import ConfigError
from sim.config.inputfiles import parse_edge_list
from sim.config.networkfiles import EdgeList, from_edge_rows, read_network
from sim.config.networkfiles import sorted_unique as _sorted_unique
from sim.config.params import PROFESSIONS  # profession code (index) -> label used in edge-list files
from sim.core.kernels import jit, parallel_kernel

__all__ = [
    "EdgeList",
    "PROFESSIONS",
    "build_complete",
    "build_sbm",
    "build_small_world",
    "group_of_agents",
    "group_sizes",
    "louvain_groups",
    "read_edge_list",
    "read_network",
]

#: Above this a complete network needs more memory than the model is worth.
MAX_COMPLETE_AGENTS = 20_000

#: From this many expected ties on, the SBM builder runs its compiled form, which gives the same ties
#: with no tie-sized array beyond the pair indices and the result (at 10^7 agents and 10^8 ties the
#: run's initialization peaked at 2.7 GiB against 7.6 GiB, and the builder took 8.7 s against 32 s).
#: Below it the numpy form, which compiles nothing, so a first small run pays no compile time for it.
#: tests/unit/test_network.py checks that both agree.
COMPILED_SBM_TIES = 1 << 21

#: Vectorised rewiring rounds before the exact per-tie fallback takes over.
_MAX_REWIRE_ROUNDS = 16


# --------------------------------------------------------------------------- groups


def group_sizes(n_agents: int, n_groups: int) -> np.ndarray:
    """Split agents into groups whose sizes differ by at most one.

    Larger groups come first so that the contiguous-block layout of
    :func:`group_of_agents` is a pure function of ``(n_agents, n_groups)``.

    Raises:
        ConfigError: ``n_groups`` is not in ``1..n_agents``.
    """
    n_agents, n_groups = int(n_agents), int(n_groups)
    if n_agents < 1:
        raise ConfigError("n_agents", n_agents, "an integer >= 1")
    if not 1 <= n_groups <= n_agents:
        raise ConfigError("n_groups", n_groups, f"an integer in 1..n_agents (= {n_agents})")
    base, extra = divmod(n_agents, n_groups)
    sizes = np.full(n_groups, base, dtype=np.int64)
    sizes[:extra] += 1
    return sizes


def group_of_agents(sizes: np.ndarray) -> np.ndarray:
    """Group id of every agent, with groups laid out as contiguous blocks.

    Contiguous blocks let the network builders address a group as an index range
    instead of carrying a membership list.
    """
    sizes = _check_sizes(sizes)
    return np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)


def _check_sizes(sizes: np.ndarray) -> np.ndarray:
    arr = np.asarray(sizes)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)) or np.any(arr < 0):
        raise ConfigError("group sizes", sizes, "a 1-D array of non-negative integers")
    return arr.astype(np.int64, copy=False)


def _check_probability(key: str, p: float) -> float:
    p = float(p)
    if not 0.0 <= p <= 1.0:  # also rejects NaN
        raise ConfigError(key, p, "a probability in [0, 1]")
    return p


# --------------------------------------------------------------------------- helpers


def _in_sorted(x: np.ndarray, sorted_arr: np.ndarray) -> np.ndarray:
    """Membership of each ``x`` in ``sorted_arr`` without re-sorting the latter."""
    if sorted_arr.size == 0:
        return np.zeros(x.shape, dtype=bool)
    pos = np.searchsorted(sorted_arr, x)
    np.minimum(pos, sorted_arr.size - 1, out=pos)
    return sorted_arr[pos] == x


_BLOCK_CALL = 64  # blocks that need at least this many draws get a call of their own (`_integers_below`)


def _integers_below(
    rng: np.random.Generator, sizes: np.ndarray, need: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """``rng.integers(0, np.repeat(sizes, need))``: the same numbers, with one call per block that needs many.

    numpy draws each element of an array-bounded call through the same bounded routine, one element at a
    time, that a scalar bound uses for the whole array (its 32-bit buffer is the generator's own), so the
    values and the generator's next state are identical (tests/unit/test_network.py checks it, bounds below
    and above 2**32 mixed). Ten million agents' network drew its 100 million in 5.6 s element by element,
    in 0.7-0.9 s a block at a time; runs of blocks that need few stay one array-bounded call, so that many
    tiny groups do not cost a call each. Written into ``out``'s first ``need.sum()`` slots if given.
    """
    total = int(need.sum())
    out = np.empty(total, dtype=np.int64) if out is None else out[:total]
    end = np.cumsum(need)
    start = end - need
    done = 0  # blocks before this one are drawn
    for b in [*np.flatnonzero(need >= _BLOCK_CALL).tolist(), len(need)]:
        if b > done:  # the blocks in between, element by element
            out[start[done] : end[b - 1]] = rng.integers(0, np.repeat(sizes[done:b], need[done:b]), dtype=np.int64)
        if b < len(need):
            # a Python int: numpy takes a numpy scalar bound for an array, element by element
            out[start[b] : end[b]] = rng.integers(0, int(sizes[b]), size=int(need[b]), dtype=np.int64)
        done = b + 1
    return out


def _distinct_draws(
    sizes: np.ndarray, k: np.ndarray, offsets: np.ndarray, rng: np.random.Generator, compiled: bool = False
) -> np.ndarray:
    """Draw ``k[b]`` distinct indices uniformly from each range ``[0, sizes[b])``.

    Indices are returned in the concatenated space (block ``b`` starts at
    ``offsets[b]``), sorted. Draw with replacement, drop repeats, redraw each
    block's shortfall until none is left. The procedure commutes with any
    permutation of a block's indices, so the final set is a uniform k-subset.
    Callers keep ``k <= sizes / 2`` so each round halves the shortfall in expectation.
    ``compiled``: sort and merge block by block in compiled loops (same draws, same result, less memory).
    """
    need = k.copy()
    if compiled:
        # the first round's draws are most of the result: they are made in an array of the result's size, and
        # the later rounds' few new values are merged into it in place (a new array each round, as
        # np.insert makes, cost ten million agents four fresh 800 MB arrays: 3.5-9 s of their network)
        room = np.empty(int(k.sum()), dtype=np.int64)
        m = 0
        while need.any():
            draws = _unique_in_blocks(_integers_below(rng, sizes, need, room if m == 0 else None), offsets, need)
            if m == 0:
                m = len(draws)  # they are room[:m]
            else:
                m = _merge_into(room, m, draws[~_in_sorted(draws, room[:m])])
            need = k - np.diff(np.searchsorted(room[:m], offsets))
        return room[:m]
    chosen = np.empty(0, dtype=np.int64)
    while need.any():
        draws = np.repeat(offsets[:-1], need) + _integers_below(rng, sizes, need)
        draws = _sorted_unique(draws)
        new = draws[~_in_sorted(draws, chosen)]
        # Block b drew need[b] values, so it never overshoots k[b]; the stable sort
        # merges two sorted runs in linear time.
        chosen = np.sort(np.concatenate((chosen, new)), kind="stable")
        need = k - np.diff(np.searchsorted(chosen, offsets))
    return chosen


@jit(cache=True, nogil=True)
def _merge_into(room, m, new):
    """Sorted ``new`` merged into the sorted ``room[:m]`` in place (from the end); returns the new length.

    No value of ``new`` may be in ``room[:m]``, and ``room`` must have space for them all.
    """
    i, w = m - 1, m + len(new) - 1
    for j in range(len(new) - 1, -1, -1):
        while i >= 0 and room[i] > new[j]:
            room[w] = room[i]
            i -= 1
            w -= 1
        room[w] = new[j]
        w -= 1
    return m + len(new)


@parallel_kernel(cache=True, nogil=True)
def _unique_in_blocks(draws, offsets, need):
    """Block b's ``need[b]`` draws (consecutive) moved to its range, sorted, repeats dropped.

    The result is the sorted distinct values of all blocks, since the blocks' ranges are disjoint and in
    increasing order.
    """
    start = np.empty(len(need) + 1, dtype=np.int64)
    start[0] = 0
    for b in range(len(need)):
        start[b + 1] = start[b] + need[b]
    for b in nb.prange(len(need)):
        for i in range(start[b], start[b + 1]):
            draws[i] += offsets[b]
        draws[start[b] : start[b + 1]].sort()
    kept = 0
    for i in range(len(draws)):
        if kept == 0 or draws[i] != draws[kept - 1]:
            draws[kept] = draws[i]
            kept += 1
    return draws[:kept]


def _sample_blocks(
    sizes: np.ndarray, counts: np.ndarray, rng: np.random.Generator, compiled: bool = False
) -> np.ndarray:
    """Uniform ``counts[b]``-subset of ``[0, sizes[b])`` for every block ``b``.

    Blocks asked for more than half their indices sample the indices to leave out
    instead, so rejection stays cheap; enumerating such a block costs at most twice
    its number of ties. Returns the chosen local indices, block by block, each
    block's ascending. ``compiled``: as `_distinct_draws`.
    """
    sizes = sizes.astype(np.int64)
    counts = counts.astype(np.int64)
    offsets = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    comp = 2 * counts > sizes
    k = np.where(comp, sizes - counts, counts)
    chosen = _distinct_draws(sizes, k, offsets, rng, compiled)
    cb = np.flatnonzero(comp)
    if cb.size:
        in_comp = np.repeat(comp, k)
        excluded = chosen[in_comp]
        lengths = sizes[cb]
        starts = np.zeros(cb.size, dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        full = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(offsets[cb] - starts, lengths)
        chosen = np.concatenate((chosen[~in_comp], full[~_in_sorted(full, excluded)]))
        chosen = np.sort(chosen, kind="stable")
    if compiled:
        return _to_local(chosen, offsets, counts)
    return chosen - np.repeat(offsets[:-1], counts)


@jit(cache=True, nogil=True)
def _to_local(chosen, offsets, counts):
    """In place: block b's ``counts[b]`` indices (consecutive) less the block's offset."""
    i = 0
    for b in range(len(counts)):
        for _ in range(counts[b]):
            chosen[i] -= offsets[b]
            i += 1
    return chosen


def _decode_triangle(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair index ``x = j(j-1)/2 + i`` (``0 <= i < j``) -> ``(i, j)``."""
    j = ((1.0 + np.sqrt(8.0 * x + 1.0)) * 0.5).astype(np.int64)
    # sqrt is correctly rounded, so j is off by at most one (only for x near 2**53).
    j -= (j * (j - 1)) >> 1 > x
    j += ((j + 1) * j) >> 1 <= x
    return x - ((j * (j - 1)) >> 1), j


@jit(cache=True, nogil=True)
def _triangle_row(x):
    """`_decode_triangle`'s ``j`` for one pair index (the same exact integer)."""
    j = np.int64((1.0 + np.sqrt(8.0 * x + 1.0)) * 0.5)
    if (j * (j - 1)) >> 1 > x:
        j -= 1
    if ((j + 1) * j) >> 1 <= x:
        j += 1
    return j


@parallel_kernel(cache=True, nogil=True)
def _decode_sbm(local, c_in, c_out, tri, starts, ends, width, u, v):
    """`build_sbm`'s decoding and merge, group by group: ``u, v`` sorted by (u, v) as `_merge_rows` gives.

    A group's ties (within it, and to later groups) all have ``u`` in the group, so each group fills its
    own range of the output: its rows counted, then each row's ties within the group (ascending) followed
    by its ties to later groups (ascending).
    """
    n_groups = len(c_in)
    src_in = np.empty(n_groups + 1, dtype=np.int64)
    src_out = np.empty(n_groups + 1, dtype=np.int64)
    dst = np.empty(n_groups + 1, dtype=np.int64)
    src_in[0] = 0
    dst[0] = 0
    for g in range(n_groups):
        src_in[g + 1] = src_in[g] + c_in[g]
        dst[g + 1] = dst[g] + c_in[g] + c_out[g]
    src_out[0] = src_in[n_groups]
    for g in range(n_groups):
        src_out[g + 1] = src_out[g] + c_out[g]
    for g in nb.prange(n_groups):
        last = ends[g] - 1
        w = max(width[g], 1)
        fill = np.zeros(ends[g] - starts[g] + 1, dtype=np.int64)
        for k in range(src_in[g], src_in[g + 1]):
            fill[last - _triangle_row(tri[g] - 1 - local[k]) - starts[g] + 1] += 1
        for k in range(src_out[g], src_out[g + 1]):
            fill[local[k] // w + 1] += 1
        fill[0] = dst[g]
        for r in range(1, len(fill)):
            fill[r] += fill[r - 1]
        for k in range(src_in[g], src_in[g + 1]):
            x = tri[g] - 1 - local[k]
            j = _triangle_row(x)
            row = last - j - starts[g]
            u[fill[row]] = last - j
            v[fill[row]] = last - (x - ((j * (j - 1)) >> 1))
            fill[row] += 1
        for k in range(src_out[g], src_out[g + 1]):
            row = local[k] // w
            u[fill[row]] = starts[g] + row
            v[fill[row]] = ends[g] + local[k] % w
            fill[row] += 1


def _merge_rows(
    ua: np.ndarray, va: np.ndarray, ub: np.ndarray, vb: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Merge two ``(u, v)``-sorted tie lists where, per row ``u``, all of ``a`` precede ``b``.

    A counting merge, O(ties + n), instead of a full sort of the output.
    """
    b_before = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ub, minlength=n), out=b_before[1:])
    a_upto = np.cumsum(np.bincount(ua, minlength=n))
    pos_a = np.arange(ua.size, dtype=np.int64) + b_before[ua]
    pos_b = np.arange(ub.size, dtype=np.int64) + (a_upto[ub] if ub.size else 0)
    u = np.empty(ua.size + ub.size, dtype=np.int64)
    v = np.empty_like(u)
    u[pos_a], v[pos_a] = ua, va
    u[pos_b], v[pos_b] = ub, vb
    return u, v


# --------------------------------------------------------------------------- builders


def build_sbm(
    sizes: np.ndarray, p_in: float, p_out: float, rng: np.random.Generator, compiled: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Planted-partition network over contiguous groups.

    Each pair of agents in one group is tied with probability ``p_in``, each pair
    across groups with ``p_out``, all independently: exactly the Bernoulli model,
    yet in O(ties + agents) time and memory, so 1e6 agents are cheap.

    Method: the pairs are cut into ``2G`` blocks, for group ``g`` the triangle of
    its within-group pairs and the rectangle ``g x (all later groups)``. Each block
    draws its tie count ``m ~ Binomial(pairs, p)`` and then a uniform ``m``-subset of
    its pair indices (rejection of repeats, vectorised over all blocks; complement
    sampling when ``m > pairs / 2``). Binomial count plus uniform subset is the same
    law as independent Bernoulli trials. Indices are decoded in row-major order
    (triangularly within, rectangularly between), so the output needs only a
    linear-time merge, not a sort.

    Args:
        sizes: Agents per group; group ``g`` holds the ``g``-th contiguous block.
        p_in: Tie probability for a within-group pair.
        p_out: Tie probability for a between-group pair.
        rng: Sole source of randomness.
        compiled: The compiled form (int32 ids) or the numpy form (int64); both give the same ties.
            None: compiled from `COMPILED_SBM_TIES` expected ties on.

    Raises:
        ConfigError: A probability is outside ``[0, 1]`` or ``sizes`` is malformed.
    """
    sizes = _check_sizes(sizes)
    p_in = _check_probability("network.p_in", p_in)
    p_out = _check_probability("network.p_out", p_out)
    n = int(sizes.sum())
    n_groups = sizes.size
    ends = np.cumsum(sizes)
    starts = ends - sizes
    tri = sizes * (sizes - 1) // 2
    width = n - ends
    rect = sizes * width
    probs = np.concatenate((np.full(n_groups, p_in), np.full(n_groups, p_out)))
    counts = rng.binomial(np.concatenate((tri, rect)), probs).astype(np.int64)
    c_in, c_out = counts[:n_groups], counts[n_groups:]
    if compiled is None:
        compiled = tri.sum() * p_in + rect.sum() * p_out >= COMPILED_SBM_TIES
    local = _sample_blocks(np.concatenate((tri, rect)), counts, rng, compiled)
    if compiled:  # agent ids fit int32 (n_agents < 2**31): half the bytes of the result
        u, v = (np.empty(int(counts.sum()), dtype=np.int32 if n < 2**31 else np.int64) for _ in range(2))
        _decode_sbm(local, c_in, c_out, tri, starts, ends, width, u, v)
        return u, v
    m_in = int(c_in.sum())

    # Within: reversing the column-major index gives row-major (i, j), so each
    # group's ties come out sorted by (u, v).
    x = np.repeat(tri - 1, c_in) - local[:m_in]
    i_rev, j_rev = _decode_triangle(x)
    last = np.repeat(ends - 1, c_in)
    u_in, v_in = last - j_rev, last - i_rev

    row, col = np.divmod(local[m_in:], np.repeat(np.maximum(width, 1), c_out))
    u_out = np.repeat(starts, c_out) + row
    v_out = np.repeat(ends, c_out) + col
    return _merge_rows(u_in, v_in, u_out, v_out, n)


def build_complete(n_agents: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair tied; the homogeneous-mixing baseline.

    Raises:
        ConfigError: ``n_agents`` exceeds 20,000 (N^2/2 ties would not fit).
    """
    n = int(n_agents)
    if n < 0:
        raise ConfigError("n_agents", n, "an integer >= 0")
    if n > MAX_COMPLETE_AGENTS:
        raise ConfigError("n_agents", n, f"<= {MAX_COMPLETE_AGENTS} for network.kind=complete (N^2/2 ties)")
    # Built row by row rather than via np.triu_indices, which allocates an N x N mask.
    row_len = np.arange(n - 1, -1, -1, dtype=np.int64)
    u = np.repeat(np.arange(n, dtype=np.int64), row_len)
    row_start = np.cumsum(row_len) - row_len
    v = np.arange(u.size, dtype=np.int64) - np.repeat(row_start, row_len) + u + 1
    return u, v


def build_small_world(n_agents: int, k: int, beta: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Watts-Strogatz network: ring lattice with a fraction of ties rewired.

    Lattice tie ``(i, i+s mod n)``, ``s = 1..k/2``, is picked for rewiring with
    probability ``beta``; its far end then moves to a node drawn uniformly from
    those that are neither ``i`` nor already tied to ``i``. As in networkx, a
    lattice tie not yet rewired blocks its pair, so the tie count stays ``n k / 2``
    and a tie whose node ``i`` is tied to everyone keeps its original end.

    Rewiring runs in vectorised rounds: every pending tie draws a target, targets
    that hit ``i`` or an occupied pair are redrawn, and among pending ties drawing
    the same new pair the earliest (``s``-major, then ``i``) wins. Ties still pending
    after a few rounds (only in near-complete graphs) are finished one by one,
    drawing uniformly from the explicit list of free targets.

    Args:
        n_agents: Number of nodes on the ring.
        k: Lattice degree; even and below ``n_agents``.
        beta: Rewiring probability per lattice tie.
        rng: Sole source of randomness.

    Raises:
        ConfigError: ``k`` is odd, negative or not below ``n_agents``; ``beta``
            outside ``[0, 1]``.
    """
    n = int(n_agents)
    k = int(k)
    beta = _check_probability("network.beta", beta)
    if n < 1:
        raise ConfigError("n_agents", n, "an integer >= 1")
    if k < 0 or k % 2 or k >= n:
        raise ConfigError("network.k", k, f"an even integer with 0 <= k < n_agents (= {n})")
    half = k // 2
    nn = np.int64(n)
    src = np.tile(np.arange(n, dtype=np.int64), half)
    far = (src + np.repeat(np.arange(1, half + 1, dtype=np.int64), n)) % nn
    slot = np.minimum(src, far) * nn + np.maximum(src, far)  # current pair of each tie
    pending = np.flatnonzero(rng.random(src.size) < beta)

    for _ in range(_MAX_REWIRE_ROUNDS):
        if pending.size == 0:
            break
        occupied = np.sort(slot)
        s = src[pending]
        w = rng.integers(0, n, size=pending.size, dtype=np.int64)
        cand = np.minimum(s, w) * nn + np.maximum(s, w)
        ok = np.flatnonzero((w != s) & ~_in_sorted(cand, occupied))
        # Earliest pending tie wins each contested pair (stable sort keeps tie order).
        order = ok[np.argsort(cand[ok], kind="stable")]
        first = np.ones(order.size, dtype=bool)
        first[1:] = cand[order[1:]] != cand[order[:-1]]
        win = order[first]
        slot[pending[win]] = cand[win]
        keep = np.ones(pending.size, dtype=bool)
        keep[win] = False
        pending = pending[keep]

    if pending.size:
        _rewire_exactly(pending, src, slot, n, rng)

    key = np.sort(slot)
    return key // nn, key % nn


def _rewire_exactly(pending: np.ndarray, src: np.ndarray, slot: np.ndarray, n: int, rng: np.random.Generator) -> None:
    """Finish rewiring tie by tie where rejection keeps missing (dense graphs)."""
    nodes = _sorted_unique(src[pending])
    a, b = slot // n, slot % n
    touch = np.isin(a, nodes) | np.isin(b, nodes)
    adj: defaultdict[int, set[int]] = defaultdict(set)
    for x, y in zip(a[touch].tolist(), b[touch].tolist(), strict=False):
        adj[x].add(y)
        adj[y].add(x)
    for t in pending.tolist():
        s = int(src[t])
        free = [w for w in range(n) if w != s and w not in adj[s]]
        if not free:
            continue  # s is tied to everyone: keep the original end
        w = free[int(rng.integers(len(free)))]
        old = int(slot[t]) // n + int(slot[t]) % n - s
        adj[s].discard(old)
        adj[old].discard(s)
        adj[s].add(w)
        adj[w].add(s)
        slot[t] = min(s, w) * n + max(s, w)


# --------------------------------------------------------------------------- edge lists


def louvain_groups(n: int, u: np.ndarray, v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Group of every node from Louvain communities (networkx), seeded from `rng`: one seed, one partition.

    ``networkx.community.louvain_communities`` on the graph of nodes ``0..n-1`` (added in order, isolated
    ones included, each then a community of its own) and ties ``(u, v)`` in their sorted order, with a
    seed drawn from `rng`. Communities are numbered by their lowest node.
    """
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    communities = nx.community.louvain_communities(graph, seed=int(rng.integers(2**32)))
    group = np.empty(n, dtype=np.int32)
    for k, members in enumerate(sorted(communities, key=min)):
        group[np.fromiter(members, dtype=np.int64, count=len(members))] = k
    return group


def read_edge_list(path: str | os.PathLike) -> EdgeList:
    """Read a user's network from CSV, failing loudly on anything ambiguous.

    The file needs a header with ``source, target, source_group, target_group,
    source_profession, target_profession`` in any order; other columns (such as
    ``weight``) are ignored. Ties are undirected: repeats in either direction merge.
    Blank lines are skipped. Errors carry the 1-based physical line of the file.
    The file is read and checked by `sim.config.inputfiles.parse_edge_list` (which the
    preflight also runs before Hydra starts) and numbered by
    `sim.config.networkfiles.from_edge_rows`. The other formats (GraphML, GEXF, GML,
    Pajek, plain edge lists, CSV without groups) are read by `read_network`.

    Raises:
        InputFileError: Missing or unreadable file; not a regular file (a directory, a
            device, a FIFO) or over `sim.config.inputfiles.MAX_FILE_BYTES`; not UTF-8
            text, a NUL byte or an overlong line; no header, a duplicate or missing
            column, a row with the wrong number of fields, an empty node or group, an
            unknown profession, a self-loop, a node given two groups or professions, or
            no edges at all.
    """
    return from_edge_rows(parse_edge_list(path))
