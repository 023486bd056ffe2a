"""The step compiled with numba: the rules of `sim.step`'s mechanism modules, fused into a few passes.

What is fused, and why: phases 1-3 (exposure, attention, influence) and 5 (identity and ledger) run
in one parallel pass over the agents (`_exchange`), since each agent's outcome there reads only the
old state and its own tie block, and identity reads only the agent's own new outcome, never the
ties; phase 4 (ties) follows in a few passes that visit only the agents who act (`_movers`), in the
ODD's sub-phase order, with proposals found in parallel and applied in agent order. A step thus costs
a few sparse passes over the slots (the memory-bandwidth floor of a sparse matrix-vector product).
Every formula is a call to the mechanism modules (`sim.step.exposure`, `attention`, `influence`,
`ties`, `identity`), as in the per-agent reference `sim.step.reference`: same (state, draws) in, same
next state out (tests/unit/test_equivalence.py).
"""

from __future__ import annotations

import sys
from typing import Any

import numba as nb
import numpy as np

from sim.config.params import Config
from sim.core import tiestore
from sim.core.draws import Draws
from sim.core.kernels import PREFETCH_AHEAD, jit, parallel_kernel, prefetch, prefetch_ends
from sim.core.pages import huge_pages
from sim.core.report import StepReport
from sim.core.state import State
from sim.step import attention, exposure, identity, influence, ties
from sim.step.records import Params, TieArrays, params, tie_arrays

# Parallel kernels read each TieArrays field into a local, one statement per field, before their prange
# loop: numba's parallel lowering (0.68) loses writes made inside the loop through `t.field[...]` or
# through locals unpacked with `a, b = t` (tests/unit/test_compiled_records.py checks that it still does).
_JIT: dict[str, Any] = {"cache": True, "nogil": True}
bump = identity.bump
WEIGHT_BITS = 21  # sender weights are below 2**WEIGHT_BITS (`exposure.sender_weight`)
WEIGHT_MASK = (1 << WEIGHT_BITS) - 1


# error_model=numpy: no zero-divisor test before each division (every divisor is positive for a valid
# config); IEEE division itself is unchanged, and the loop no longer branches to raise.
@parallel_kernel(error_model="numpy", **_JIT)
def _exchange(
    t,
    x,
    e,
    trust,
    literacy,
    ident_arr,
    critical,
    group,
    deg0,
    forum_content,
    u_peer,
    u_pick,
    u_broadcast,
    u_forum,
    was_over,
    was_withdrawn,
    ow,
    gains,
    episodes,
    withdrawals,
    e_t,
    p,
    qgx,
    qgx_f,
    rej_peer,
    sender,
    sender_slot,
    asocial,
    in_now,
    x_new,
    e_new,
    load,
):
    """Phases 1-3 (exposure, attention, influence) and 5 (identity, trust, ledger) for every agent.

    Identity, trust and the ledger counters read only the agent's own new attention and influence
    outcome, never the ties, so they are updated here, in place, instead of in a pass of their own after
    phase 4; so is the overload attribution of withdrawal (`ow`). Also writes each agent's asociality
    (its new engagement, and its mutes at the start of the step) for the exclusion of phase 4a.

    `qgx` (with `qgx_f`, the same memory read as float64), `rej_peer`, `sender`, `sender_slot`, `asocial`
    and `in_now` (each agent's in-group degree, kept up to date through phase 4 by `_in_group_change`) are
    written: the state's scratch arrays, reused from step to step (a fresh set cost ten million agents
    about 80,000 page faults a step). So are `x_new`, `e_new` and `load`, the new stance, engagement and
    load (`_outputs`).
    """
    indptr = t.indptr
    nbr = t.nbr
    muted = t.muted
    mutes = t.mutes
    n = len(x)
    over = np.zeros(n, dtype=np.bool_)
    withdrawn = np.zeros(n, dtype=np.bool_)
    n_acc = np.empty(n, dtype=np.int8)  # messages accepted, at most 3 (`StepReport.n_accepted`)
    # sender: the agent whose message was seen (-1: none); sender_slot: its slot then (set only with a
    # sender), a hint only, as cuts move slots
    # qgx: what a tie reads of the agent at its other end, side by side in 16 bytes: at 2j the agent's
    # group and engagement weight (< 2**21) in one word, at 2j + 1 its stance (read through `qgx_f`, for
    # the message of the sender picked). A tie to an agent far away in memory costs one cache miss, not
    # one per array (packing the word: the million-agent step 0.212 -> 0.172 s in one measurement; the
    # stance beside it: the exchange 0.119 -> 0.102 s at a million agents, the sender's stance had been a
    # cache miss of its own)
    v_b0, v_f0 = exposure.broadcast_volume(e_t, p), exposure.forum_volume(e_t, p)
    for i in nb.prange(n):
        qgx[2 * i] = (np.int64(group[i]) << WEIGHT_BITS) | exposure.sender_weight(e[i])
        qgx_f[2 * i + 1] = x[i]
    for i in nb.prange(n):  # agents are independent here: each writes only its own row
        # the words of agent i + PREFETCH_AHEAD's neighbours, asked for now: at ten million agents most are
        # cache misses (ties to other groups land anywhere in memory), and an agent's arithmetic is too
        # long for the CPU to reach the next agent's reads by itself. Written out, not `prefetch_ends` with a
        # stride: called, its serial form ran the exchange at a million agents on one thread in 0.24 s
        # against 0.18 s written out (the parallel form the same), measured twice, alternating
        k = i + PREFETCH_AHEAD
        if k < n:
            for s in range(indptr[k], indptr[k + 1]):
                if nbr[s] < 0:  # blocks are compact: the ties end at the first free slot
                    break
                prefetch(qgx, 2 * np.int64(nbr[s]))
        total = np.int64(0)  # typed: a literal 0 would compile the callees once more for it
        degree = np.int64(0)
        n_muted = np.int64(0)
        in_deg = np.int64(0)
        check = mutes[i]
        g = group[i]
        for s in range(indptr[i], indptr[i + 1]):
            j = nbr[s]
            if j < 0:  # blocks are compact: the ties end at the first free slot
                break
            degree += 1
            w = qgx[2 * j]
            if w >> WEIGHT_BITS == g:
                in_deg += 1
            if check and muted[s]:
                n_muted += 1
            else:
                total += w & WEIGHT_MASK
        v_peer = exposure.peer_volume(total, e_t, p)
        v_b, v_f = v_b0, v_f0
        if exposure.is_capped(v_peer, v_b, v_f, p):
            v_peer, v_b, v_f = exposure.capped(v_peer, v_b, v_f, p)
        # attention
        e_i = np.float64(e[i])
        v_peer, v_b, v_f = attention.taken_in(v_peer, v_b, v_f, e_i, p)
        reach_b, reach_f = exposure.arrival(v_b), exposure.arrival(v_f)
        lit = attention.literacy_factor(literacy[i], p)
        ident = np.float64(ident_arr[i])
        ld = attention.load(v_peer, v_b, v_f, attention.capacity(lit, ident, p))
        is_over, p_attend, en = attention.attend(e_i, np.float64(trust[i]), ld, p)
        load[i] = ld
        over[i] = is_over
        e_new[i] = en  # stored as float32; withdrawal reads the stored value
        withdrawn[i] = attention.is_withdrawn(e_new[i], p)
        ow[i] = attention.withdrawn_by_overload(withdrawn[i], was_withdrawn[i], ow[i], is_over)
        asocial[i] = ties.asociality(e_new[i], n_muted, degree)
        in_now[i] = in_deg
        seen_peer = total > 0 and attention.seen(u_peer[i], exposure.arrival(v_peer), p_attend)
        sender[i] = -1
        if seen_peer:  # the sender matters only for a message that is seen: no second pass over the others
            target = exposure.sender_target(u_pick[i], total)
            running = 0
            for s in range(indptr[i], indptr[i + 1]):
                j = nbr[s]
                if not (check and muted[s]):
                    running += qgx[2 * j] & WEIGHT_MASK
                    if exposure.is_sender(running, target):  # before the first free slot: total counts alive ties
                        sender[i] = j
                        sender_slot[i] = s
                        break
        seen_b = attention.seen(u_broadcast[i], reach_b, p_attend)
        seen_f = attention.seen(u_forum[i], reach_f, p_attend)
        # influence
        y_peer = qgx_f[2 * sender[i] + 1] if seen_peer else 0.0  # x[sender[i]], from the line its word came in
        x_new[i], acc, rej_peer[i], resisted = influence.new_stance(
            x[i],
            y_peer,
            ident,
            np.float64(critical[i]),
            np.float64(trust[i]),
            ties.lost_share(in_deg, deg0[i]),
            forum_content[i],
            seen_peer,
            seen_b,
            seen_f,
            p,
        )
        n_acc[i] = acc
        # identity, trust and ledger (the count as new_stance gave it: the callees compiled once, for int64)
        trust[i] = attention.next_trust(trust[i], acc, is_over, resisted, p)
        gained = identity.gains(acc, withdrawn[i], is_over, p)
        ident_arr[i] = identity.next_identity(ident, gained, lit, p)
        if gained:
            bump(gains, i)
        if identity.began(is_over, was_over[i]):
            bump(episodes, i)
        if identity.began(withdrawn[i], was_withdrawn[i]):
            bump(withdrawals, i)
    return x_new, e_new, load, over, withdrawn, n_acc


def _apply_cuts(t: TieArrays, owners, others, hints, lost, owner_loses):
    """Cut the proposed ties owners[q]-others[q] in order, skipping those already gone.

    Returns (source, target) of the cuts made and the indices of the proposals that took effect;
    the loss goes to the owner (an excluded dissenter) or to the neighbour (dropped by a rewirer).
    Proposals name agents (with the slot they had as a hint): each cut moves the later ties of both blocks.

    In parallel, by parts of the agents: a cut changes only its two ends' blocks, and a proposal finds its
    tie gone only when an earlier one cut the same pair, so the proposals with both ends in one part are
    cut in order on a thread of their own, then those whose ends lie in two parts, in order; every block
    ends as cutting all of them one by one leaves it (it keeps the order of the ties it has left).
    """
    done = _cut_in_parts(t, owners, others, hints, lost, owner_loses, tiestore.PARTS)
    kept = np.flatnonzero(done)
    return owners[kept], others[kept], kept


@parallel_kernel(**_JIT)
def _cut_in_parts(t, owners, others, hints, lost, owner_loses, parts):
    """`_apply_cuts`' cuts; True where a proposal took effect."""
    indptr = t.indptr  # one field per statement, before the parallel loop (see _JIT)
    nbr = t.nbr
    muted = t.muted
    rej = t.rejections
    size = tiestore.part_size(indptr, parts)
    done = np.zeros(len(owners), dtype=np.bool_)
    for k in nb.prange(parts):
        _cut_part(indptr, nbr, muted, rej, owners, others, hints, lost, owner_loses, done, k, size)
    # the ties across parts; typed: a literal -1 compiled _cut_part (and _in_part) a second time
    _cut_part(indptr, nbr, muted, rej, owners, others, hints, lost, owner_loses, done, np.int64(-1), size)
    return done


@jit(**_JIT)
def _in_part(i, j, k, size):
    """Whether the tie i-j is part k's (both ends in agents k size ...), or for k = -1 in two parts."""
    return i // size != j // size if k < 0 else i // size == k and j // size == k


@jit(**_JIT)
def _cut_part(indptr, nbr, muted, rej, owners, others, hints, lost, owner_loses, done, k, size):
    """Cut in order the proposals of part k (`_in_part`) whose tie is still there; mark them in `done`."""
    m = len(owners)
    for q in range(m):
        # ask ahead (`prefetch`) for the owner's slot and, in two stages, the other end's block: cut by cut
        # these are cache misses at ten million agents
        a = q + PREFETCH_AHEAD
        if a < m and _in_part(owners[a], others[a], k, size):
            prefetch(nbr, hints[a])
            prefetch(muted, hints[a])
            prefetch(rej, hints[a])
            prefetch(indptr, others[a])
        a = q + PREFETCH_AHEAD // 2
        if a < m and _in_part(owners[a], others[a], k, size):
            prefetch(nbr, indptr[others[a]])
        i, j = owners[q], others[q]
        if not _in_part(i, j, k, size):
            continue
        s = tiestore.slot_of_nb(indptr, nbr, i, j, hints[q])
        if s >= 0:
            done[q] = True
            bump(lost, i if owner_loses else j)
            tiestore.cut_nb(indptr, nbr, muted, rej, s, i)


_CHUNKS = 64  # fixed work split of `_movers`: its output order never depends on the number of threads


@parallel_kernel(**_JIT)
def _movers(dissent, asocial, n_acc, withdrawn, over, u_exclude, u_form, u_rewire, p):
    """Who may act in phase 4, in agent order: excluded dissenters, tie proposers, would-be rewirers.

    Would-be rewirers are the dissenters whose uniform lies below the rewiring rate; `_rewire_proposals`
    keeps those below their own chance, which needs their ties.

    One pass over the agents instead of one per sub-phase; the sub-phases then visit only these few.
    A bit per role and agent, counted per fixed chunk of agents, then the chunks write their agents in
    place, so the lists are in agent order whatever the number of threads.
    """
    n = len(dissent)
    size = (n + _CHUNKS - 1) // _CHUNKS
    role = np.empty(n, dtype=np.uint8)
    start = np.zeros((_CHUNKS + 1, 3), dtype=np.int64)
    for k in nb.prange(_CHUNKS):
        c0 = c1 = c2 = 0
        for i in range(k * size, min(n, (k + 1) * size)):
            r = 0
            if ties.excluded(dissent[i], asocial[i], u_exclude[i], p):
                r |= 1
                c0 += 1
            if ties.proposes(np.int64(n_acc[i]), withdrawn[i], over[i], u_form[i], p):  # typed as the reference's
                r |= 2
                c1 += 1
            if ties.may_rewire(dissent[i], u_rewire[i], p):
                r |= 4
                c2 += 1
            role[i] = r
        start[k + 1, 0], start[k + 1, 1], start[k + 1, 2] = c0, c1, c2
    for k in range(_CHUNKS):
        for r in range(3):  # element by element: a row operation compiles numba's shape-error text
            start[k + 1, r] += start[k, r]
    out = (
        np.empty(start[_CHUNKS, 0], dtype=np.int64),
        np.empty(start[_CHUNKS, 1], dtype=np.int64),
        np.empty(start[_CHUNKS, 2], dtype=np.int64),
    )
    for k in nb.prange(_CHUNKS):
        c0, c1, c2 = start[k, 0], start[k, 1], start[k, 2]
        for i in range(k * size, min(n, (k + 1) * size)):
            r = role[i]
            if r & 1:
                out[0][c0] = i
                c0 += 1
            if r & 2:
                out[1][c1] = i
                c1 += 1
            if r & 4:
                out[2][c2] = i
                c2 += 1
    return out


@jit(**_JIT)
def _ask_ahead(indptr, nbr, who, q, by_end, by_end2):
    """Ask for what the pass over the movers `who` reads a few movers ahead (`prefetch`), in three stages.

    Movers are few and scattered in memory: each one's index entry, tie block and far ends' words are
    cache misses at ten million agents. The entry is asked for two distances ahead, the block one
    distance ahead and, half a distance ahead (its block asked for by then), `by_end[j]` of each
    neighbour j, and `by_end2[j]` unless it is None. A hint only: no value changes.
    """
    m = len(who)
    a = q + 2 * PREFETCH_AHEAD
    if a < m:
        prefetch(indptr, who[a])
    a = q + PREFETCH_AHEAD
    if a < m:
        start = indptr[who[a]]
        prefetch(nbr, start)
        prefetch(nbr, start + 16)
    a = q + PREFETCH_AHEAD // 2
    if a < m:
        prefetch_ends(indptr, nbr, who[a], by_end, by_end2)


@parallel_kernel(**_JIT)
def _exclusion_proposals(t, group, who, asocial, u_exclude, in_now, p):
    """The in-group neighbour each excluded dissenter loses (-1 if it has none), and its slot.

    The count of in-group ties the pick needs is `in_now` (the exchange's, no tie has changed since):
    the block is walked only up to the pick.
    """
    indptr = t.indptr
    nbr = t.nbr
    prop = np.full(len(who), -1, dtype=np.int64)
    slot = np.full(len(who), -1, dtype=np.int64)
    for q in nb.prange(len(who)):  # proposals read the ties as they are before any cut
        _ask_ahead(indptr, nbr, who, q, group, None)
        i = who[q]
        k = ties.exclusion_pick(u_exclude[i], np.int64(in_now[i]), asocial[i], p)  # typed, as in _exchange
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] < 0:  # blocks are compact: the ties end at the first free slot
                break
            if group[nbr[s]] == group[i]:
                if k == 0:
                    prop[q] = nbr[s]
                    slot[q] = s
                    break
                k -= 1
    return prop, slot


def _exclude(t: TieArrays, group, who, asocial, u_exclude, in_now, p: Params, lost):
    prop, slot = _exclusion_proposals(t, group, who, asocial, u_exclude, in_now, p)
    has = prop >= 0
    src, dst, _ = _apply_cuts(t, who[has], prop[has], slot[has], lost, True)
    return src, dst


@jit(**_JIT)
def _in_group_change(in_now, group, a, b, delta):
    """Keep `in_now` (each agent's in-group degree) up to date for ties a[k]-b[k] cut (-1) or formed (+1).

    The exchange counts every agent's in-group ties as it walks them; phase 4 then changes a few ties,
    so the rewiring reads each agent's count here instead of walking its block again (the same integer).
    """
    for q in range(len(a)):
        if group[a[q]] == group[b[q]]:
            in_now[a[q]] += delta
            in_now[b[q]] += delta


@parallel_kernel(**_JIT)
def _count_rejections(t, sender, sender_slot, rej_peer, p):
    """Count each rejected sender against its slot and mute it at `mute_after`; True where a mute is new.

    The sender's slot lies in i's own block, so agents never write the same slot.
    """
    indptr = t.indptr  # one field per statement, before the parallel loop (see _JIT)
    nbr = t.nbr
    muted = t.muted
    mutes = t.mutes
    rej = t.rejections
    n = len(sender)
    newly = np.zeros(n, dtype=np.bool_)
    for i in nb.prange(n):
        if not rej_peer[i] or sender[i] < 0:  # few agents reject their peer's message: read their sender only
            continue
        s = tiestore.slot_of_nb(indptr, nbr, i, sender[i], sender_slot[i])  # -1: cut in the exclusion sub-phase
        if s >= 0:
            rej[s] = ties.counted_rejections(rej[s])
            if ties.mutes_sender(muted[s], rej[s], p):
                muted[s] = True
                mutes[i] = True
                newly[i] = True
    return newly


@parallel_kernel(**_JIT)
def _mutual(t, owners, others, hints):
    """Which newly muted ties are muted from the other end too (read in parallel), and their slots."""
    indptr = t.indptr
    nbr = t.nbr
    muted = t.muted
    m = len(owners)
    both = np.zeros(m, dtype=np.bool_)
    slots = np.empty(m, dtype=np.int64)
    for q in nb.prange(m):
        s = tiestore.slot_of_nb(indptr, nbr, owners[q], others[q], hints[q])
        slots[q] = s
        both[q] = s >= 0 and muted[tiestore.reverse_slot(indptr, nbr, s, owners[q])]
    return both, slots


@jit(**_JIT)
def _cut_mutual(t, owners, others, hints, lost):
    """Cut, in order, the ties muted from both ends; both ends lose the tie.

    A cut changes no other tie's mutes, so these are the ties `_mutual` found, less any already gone.
    """
    m = len(owners)
    c_src = np.empty(m, dtype=np.int64)
    c_dst = np.empty(m, dtype=np.int64)
    c = 0
    for q in range(m):
        i, j = owners[q], others[q]
        s = tiestore.slot_of_nb(t.indptr, t.nbr, i, j, hints[q])
        if s >= 0:
            c_src[c] = i
            c_dst[c] = j
            bump(lost, i)
            bump(lost, j)
            tiestore.cut_nb(t.indptr, t.nbr, t.muted, t.rejections, s, i)
            c += 1
    return c_src[:c], c_dst[:c]


def _mute(t: TieArrays, sender, sender_slot, rej_peer, p: Params, lost):
    owners = np.flatnonzero(_count_rejections(t, sender, sender_slot, rej_peer, p))
    others, hints = sender[owners], sender_slot[owners]
    both, slots = _mutual(t, owners, others, hints)
    cuts = _cut_mutual(t, owners[both], others[both], slots[both], lost)
    return (owners, others), cuts


def _first_per_pair(a, b, n):
    """Indices of the first occurrence of each unordered pair, in their original order.

    numpy, not compiled: its stable sort of the pair keys took half the time of numba's at a million
    pairs (0.11 against 0.21 s here), and compiling numba's took a second of the first run.
    """
    key = np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    first = np.ones(len(key), dtype=np.bool_)
    first[1:] = ordered[1:] != ordered[:-1]
    keep = np.zeros(len(key), dtype=np.bool_)
    keep[order[first]] = True
    return np.flatnonzero(keep)


@parallel_kernel(**_JIT)
def _formation_proposals(t, x, withdrawn, group, group_order, group_start, who, u_form, p):
    """The agent each proposer would tie to (accepting, not yet linked), -1 for none."""
    indptr = t.indptr
    nbr = t.nbr
    n = len(x)
    prop = np.full(len(who), -1, dtype=np.int64)
    for q in nb.prange(len(who)):
        i = who[q]
        j = ties.formation_candidate(u_form[i], group[i], group_order, group_start, n, p)
        if j != i and ties.accepts_tie(x[i], x[j], withdrawn[j], p) and not tiestore.linked_nb(indptr, nbr, i, j):
            prop[q] = j
    return prop


def _form_candidates(t: TieArrays, x, withdrawn, group, group_order, group_start, who, u_form, p: Params):
    prop = _formation_proposals(t, x, withdrawn, group, group_order, group_start, who, u_form, p)
    has = prop >= 0
    a, b = who[has], prop[has]
    keep = _first_per_pair(a, b, len(x))
    return a[keep], b[keep]


@parallel_kernel(**_JIT)
def _rewire_candidates(x, withdrawn, group, group_order, group_start, deg0, who, u_rewire, in_now, p):
    """For each would-be rewirer, the outsider it asks if it rewires and the outsider accepts (-1 otherwise).

    A would-be rewirer rewires only if its uniform also lies below its chance, set by its loss of
    in-group ties (its own count, `in_now`); the outsider accepts by its stance and engagement. Most
    would-be rewirers stop at one of these, so none of their ties is walked: first every candidate is
    drawn, then each is checked with its words asked for a few candidates ahead (`prefetch`), as they
    lie anywhere in memory.
    """
    n = len(x)
    m = len(who)
    to = np.full(m, -1, dtype=np.int64)
    for q in nb.prange(m):
        i = who[q]
        chance = ties.rewire_chance(ties.lost_share(np.int64(in_now[i]), deg0[i]), p)  # typed, as in _exchange
        if ties.rewires(np.bool_(True), u_rewire[i], chance):  # typed: a literal True compiles it twice
            to[q] = ties.rewire_candidate(u_rewire[i], chance, group[i], group_order, group_start, n)
    for q in nb.prange(m):
        a = q + PREFETCH_AHEAD
        if a < m and to[a] >= 0:
            prefetch(x, to[a])
            prefetch(withdrawn, to[a])
        j = to[q]
        if j >= 0 and not ties.accepts_tie(x[who[q]], x[j], withdrawn[j], p):
            to[q] = -1
    return to


@parallel_kernel(**_JIT)
def _rewire_proposals(t, x, who, to, p):
    """The neighbour each rewirer would drop (-1: none) and its slot; none if it already holds its outsider `to`."""
    indptr = t.indptr
    nbr = t.nbr
    drop = np.full(len(who), -1, dtype=np.int64)
    slot = np.full(len(who), -1, dtype=np.int64)
    for q in nb.prange(len(who)):
        _ask_ahead(indptr, nbr, who, q, x, None)  # most_disagreeing reads the neighbours' stances
        i = who[q]
        if tiestore.linked_nb(indptr, nbr, i, to[q]):
            continue
        worst_slot, worst = ties.most_disagreeing(indptr, nbr, x, i)
        if ties.worth_dropping(worst_slot, worst, p):
            drop[q] = nbr[worst_slot]
            slot[q] = worst_slot
    return drop, slot


def _rewire_moves(
    t: TieArrays, x, withdrawn, group, group_order, group_start, deg0, who, u_rewire, in_now, p: Params, lost
):
    to = _rewire_candidates(x, withdrawn, group, group_order, group_start, deg0, who, u_rewire, in_now, p)
    has = to >= 0
    who, to = who[has], to[has]
    drop, slot = _rewire_proposals(t, x, who, to, p)
    has = drop >= 0
    mi, mj = who[has], to[has]
    c_src, c_dst, kept = _apply_cuts(t, mi, drop[has], slot[has], lost, False)
    mi, mj = mi[kept], mj[kept]
    keep = _first_per_pair(mi, mj, len(x))
    return c_src, c_dst, mi[keep], mj[keep]


@jit(**_JIT)
def _count_gains(gained, a, b):
    for q in range(len(a)):
        bump(gained, a[q])
        bump(gained, b[q])


def _connect(state: State, a: np.ndarray, b: np.ndarray) -> None:
    """Form the ties a[k]-b[k] (`sim.core.tiestore.connect`); both ends count a gained tie."""
    tiestore.connect(state.ties, a, b)
    _count_gains(state.ledger["ties_gained"], a, b)


def _scratch(state: State) -> tuple[np.ndarray, ...]:
    """The exchange's per-step arrays that the step uses up: allocated at a state's first step, then reused."""
    n = state.n_agents
    scratch = state.scratch()
    work = scratch.get("exchange")
    if work is None or len(work[2]) != n:
        with huge_pages():  # read at random places (a tie's far end) by every exchange: sim.core.pages
            qgx = np.empty(2 * n, dtype=np.int64)  # see _exchange
        work = scratch["exchange"] = (
            qgx,
            qgx.view(np.float64),
            np.empty(n, dtype=np.bool_),  # rej_peer
            np.empty(n, dtype=np.int64),  # sender
            np.empty(n, dtype=np.int64),  # sender_slot
            np.empty(n),  # asocial
            np.empty(n, dtype=np.int32),  # in_now
        )
    return work


_OUTPUTS = "exchange_out"
#: the dtypes of the exchange's new stance, engagement and load (the state's fields they replace)
_OUTPUT_DTYPES: tuple[np.dtype, ...] = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.float32))


def _outputs(state: State) -> list[np.ndarray]:
    """Arrays for the exchange to write the new stance, engagement and load into.

    Each is the array the state held before the last step, if nothing but the state's scratch holds it
    any more (its reference count: a caller who kept `state.stance` from two steps ago keeps its
    values), else a new one. At ten million agents the three new arrays of every step were 200 MB of
    fresh pages, about 49,000 page faults a step. `_retire` keeps the replaced arrays for the next step.
    """
    n = state.n_agents
    spare = state.scratch().pop(_OUTPUTS, ())
    with huge_pages():  # new ones (the first step's) as the state's columns (`sim.core.initialize`)
        return [_reused(spare, k, n, dtype) for k, dtype in enumerate(_OUTPUT_DTYPES)]


def _reused(spare: tuple[np.ndarray, ...], k: int, n: int, dtype: np.dtype) -> np.ndarray:
    """spare[k] if it fits and nothing else holds it, else a new array."""
    a = spare[k] if k < len(spare) else None
    if a is None or a.shape != (n,) or a.dtype != dtype or not (a.flags.c_contiguous and a.flags.writeable):
        return np.empty(n, dtype=dtype)
    # held by the `spare` tuple, the name `a` and getrefcount's argument only: no one else can see it
    return a if sys.getrefcount(a) == 3 else np.empty(n, dtype=dtype)


def _retire(state: State, old: tuple[np.ndarray, ...]) -> None:
    """Keep the stance, engagement and load the last exchange replaced, for `_outputs` at the next step."""
    state.scratch()[_OUTPUTS] = old


def step_compiled(state: State, cfg: Config, draws: Draws) -> StepReport:
    """Advance `state` in place by one step (compiled)."""
    state.t += 1
    e_t = exposure.level(state.t, cfg.exposure)
    p = params(cfg)
    t, ledger = tie_arrays(state.ties), state.ledger
    qgx, qgx_f, rej_peer, sender, sender_slot, asocial, in_now = _scratch(state)
    x_new, e_new, load_new = _outputs(state)
    x, e, load, over, withdrawn, n_acc = _exchange(
        t,
        state.stance,
        state.engagement,
        state.trust,
        state.literacy,
        state.identity,
        state.critical,
        state.group,
        state.in_group_degree0,
        draws.forum_content,
        draws.peer,
        draws.peer_pick,
        draws.broadcast,
        draws.forum,
        state.overloaded,
        state.withdrawn,
        state.overload_withdrawn,
        ledger["identity_gains"],
        ledger["overload_episodes"],
        ledger["withdrawals"],
        e_t,
        p,
        qgx,
        qgx_f,
        rej_peer,
        sender,
        sender_slot,
        asocial,
        in_now,
        x_new,
        e_new,
        load_new,
    )
    _retire(state, (state.stance, state.engagement, state.load))
    state.stance, state.engagement, state.load = x, e, load
    state.overloaded, state.withdrawn = over, withdrawn
    lost = ledger["ties_lost"]
    events: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    dissent = ties.dissenters_nb(x, state.group, state.group_order, state.group_start, p.conformity)
    excluded, proposers, rewirers = _movers(
        dissent, asocial, n_acc, withdrawn, over, draws.exclude, draws.form, draws.rewire, p
    )
    groups = (state.group, state.group_order, state.group_start)
    if p.exclusion:
        events["excluded"] = _exclude(t, state.group, excluded, asocial, draws.exclude, in_now, p, lost)
        _in_group_change(in_now, state.group, *events["excluded"], -1)
    if p.muting:
        events["muted"], events["cut_mute"] = _mute(t, sender, sender_slot, rej_peer, p, lost)
        _in_group_change(in_now, state.group, *events["cut_mute"], -1)
    if p.formation:
        a, b = _form_candidates(t, x, withdrawn, *groups, proposers, draws.form, p)
        _connect(state, a, b)
        _in_group_change(in_now, state.group, a, b, 1)
        events["formed"] = (a, b)
    if p.rewiring:
        t = tie_arrays(state.ties)  # making room for the formed ties may have replaced the arrays
        deg0 = state.in_group_degree0
        cs, cd, a, b = _rewire_moves(t, x, withdrawn, *groups, deg0, rewirers, draws.rewire, in_now, p, lost)
        _connect(state, a, b)
        _in_group_change(in_now, state.group, cs, cd, -1)  # exact at the end of the step (a test checks it)
        _in_group_change(in_now, state.group, a, b, 1)
        events["cut_rewire"], events["rewired"] = (cs, cd), (a, b)
    return StepReport(e_t, n_acc, events)
