"""The step compiled with numba: the per-agent rules of `sim.reference`, fused into a few passes.

Each kernel walks the agents once and touches only their tie blocks, so a step costs a few sparse
passes over the slots (the memory-bandwidth floor of a sparse matrix-vector product) instead of
the dozen full-array temporaries of the numpy version. Same (state, draws) in, same next state
out as `sim.schedule.step_vectorized` and `sim.reference.step_reference` (tests/test_equivalence.py).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from sim import tiestore
from sim.draws import BELOW_ONE, Draws
from sim.params import Config
from sim.schedule import StepReport
from sim.state import LEDGER_MAX, State
from sim.submodels.exposure import QUANTUM, level

_JIT = {"cache": True, "nogil": True}


# error_model=numpy: no zero-divisor test before each division (every divisor is positive for a valid
# config); IEEE division itself is unchanged, and the loop no longer branches to raise.
@nb.njit(parallel=True, error_model="numpy", **_JIT)
def _exchange(indptr, nbr, muted, mutes, x, e, trust, literacy, identity, critical, forum_content,
              u_peer, u_pick, u_broadcast, u_forum, was_over, was_withdrawn, gains, episodes, withdrawals,
              e_t, p):
    """Phases 1-3 (exposure, attention, influence) and 5 (identity, ledger) for every agent.

    Identity and its ledger counters read only the agent's own new attention and influence outcome,
    never the ties, so they are updated here, in place, instead of in a pass of their own after phase 4.
    """
    (peer_on, peer_rate, broadcast_on, broadcast_rate, forum_on, forum_rate, porosity, msg_cap,
     att_on, capacity, literacy_effect, identity_buffer, withdrawal_rate, recovery_rate, withdrawn_below,
     inf_on, acceptance, rejection, rate, contrast, narrowing, stability, dominant,
     ident_on, ident_gain, ident_decay) = p
    n = len(x)
    x_new = np.empty(n)
    e_new = np.empty(n, dtype=np.float32)
    load = np.empty(n, dtype=np.float32)
    over = np.zeros(n, dtype=np.bool_)
    withdrawn = np.zeros(n, dtype=np.bool_)
    n_acc = np.empty(n, dtype=np.int64)
    rej_peer = np.empty(n, dtype=np.bool_)
    # the agent whose message was seen (-1: none), and its slot then: a hint only, as cuts move slots
    sender = np.empty(n, dtype=np.int64)
    sender_slot = np.empty(n, dtype=np.int64)
    q = np.empty(n, dtype=np.int32)  # engagement weights (< 2**21): half the bytes to gather
    v_b0 = broadcast_rate * e_t if broadcast_on else 0.0
    v_f0 = forum_rate * porosity * e_t if forum_on else 0.0
    reach_b0, reach_f0 = -math.expm1(-v_b0), -math.expm1(-v_f0)  # the same for every agent below the cap
    for i in nb.prange(n):
        q[i] = np.int32(math.floor(e[i] * QUANTUM))
    for i in nb.prange(n):  # agents are independent here: each writes only its own row
        total = 0
        check = mutes[i]
        for s in range(indptr[i], indptr[i + 1]):
            j = nbr[s]
            if j < 0:  # blocks are compact: the ties end at the first free slot
                break
            if not (check and muted[s]):
                total += q[j]
        v_peer = peer_rate * e_t * total / QUANTUM if peer_on else 0.0
        v_b, v_f, reach_b, reach_f = v_b0, v_f0, reach_b0, reach_f0
        v_all = v_peer + v_b + v_f
        if msg_cap > 0 and v_all > msg_cap:
            scale = msg_cap / v_all
            v_peer, v_b, v_f = v_peer * scale, v_b * scale, v_f * scale
            reach_b, reach_f = -math.expm1(-v_b), -math.expm1(-v_f)
        # attention
        lit = max(0.05, 1.0 + literacy_effect * (np.float64(literacy[i]) - 0.5))
        ident = np.float64(identity[i])
        cap = capacity * lit * (1.0 + identity_buffer * ident)
        ld = (v_peer + v_b + v_f) / cap
        ei = np.float64(e[i])
        if att_on:
            is_over = ld > 1.0
            p_attend = ei / max(ld, 1.0)
            if is_over:
                en = ei * (1.0 - withdrawal_rate * min(1.0, ld - 1.0))
            else:
                en = ei + recovery_rate * (np.float64(trust[i]) - ei)
        else:
            is_over = False
            p_attend = 1.0
            en = ei
        load[i] = ld
        over[i] = is_over
        e_new[i] = min(1.0, max(0.0, en))  # stored as float32; withdrawal reads the stored value
        withdrawn[i] = np.float64(e_new[i]) < withdrawn_below
        seen_peer = total > 0 and u_peer[i] < -math.expm1(-v_peer) * p_attend
        sender[i] = -1
        if seen_peer:  # the sender matters only for a message that is seen: no second pass over the others
            target = np.int64(math.floor(u_pick[i] * total))
            running = 0
            for s in range(indptr[i], indptr[i + 1]):
                j = nbr[s]
                if not (check and muted[s]):
                    running += q[j]
                    if running > target:  # reached before the first free slot: total counts alive ties only
                        sender[i] = j
                        sender_slot[i] = s
                        break
        seen_b = u_broadcast[i] < reach_b * p_attend
        seen_f = u_forum[i] < reach_f * p_attend
        # influence
        y_peer = x[sender[i]] if seen_peer else 0.0
        x_new[i], n_acc[i], rej_peer[i] = _influence(
            x[i], y_peer, ident, np.float64(critical[i]), forum_content[i], seen_peer, seen_b, seen_f, inf_on,
            acceptance, rejection, rate, contrast, narrowing, stability, dominant)
        # identity and ledger
        gained = False
        if ident_on:
            gained = n_acc[i] > 0 and not withdrawn[i] and not is_over
            g = min(1.0, ident_gain * lit)
            identity[i] = (ident + g * (1.0 - ident) if gained else ident) * (1.0 - ident_decay)
        if gained:
            bump(gains, i)
        if is_over and not was_over[i]:
            bump(episodes, i)
        if withdrawn[i] and not was_withdrawn[i]:
            bump(withdrawals, i)
    return x_new, e_new, load, over, withdrawn, n_acc, rej_peer, sender, sender_slot


@nb.njit(**_JIT)
def _influence(xi, y_peer, ident, critical, y_forum, seen_peer, seen_b, seen_f, inf_on, acceptance, rejection,
               rate, contrast, narrowing, stability, dominant):
    """An agent's new stance from the messages it attended: social judgment, summed over the channels.

    Returns (stance, messages accepted, whether the peer's message was rejected).
    """
    if not inf_on:
        return xi, 0, False
    mu = rate / (1.0 + stability * ident)
    delta = 0.0
    accepted = 0
    rejected_peer = False
    for channel in range(3):
        if channel == 0:
            if not seen_peer:
                continue
            y, accept = y_peer, acceptance
        elif channel == 1:
            if not seen_b:
                continue
            y, accept = dominant, acceptance * (1.0 - narrowing * critical)
        else:
            if not seen_f:
                continue
            y, accept = y_forum, acceptance
        d = abs(y - xi)
        if d < accept:
            delta += mu * (y - xi)
            accepted += 1
        elif contrast and d > rejection:
            delta -= mu * (y - xi)
            rejected_peer = rejected_peer or channel == 0
    return min(1.0, max(0.0, xi + delta)), accepted, rejected_peer


@nb.njit(parallel=True, **_JIT)
def dissenters_nb(x, group, group_order, group_start, conformity):
    n_groups = len(group_start) - 1
    norm = np.empty(n_groups)
    for g in nb.prange(n_groups):
        a, b = group_start[g], group_start[g + 1]
        m = b - a
        if m == 0:
            norm[g] = np.nan
            continue
        k = m // 2  # the median by selection, O(m): the upper middle, and for even m the top of the rest
        vals = np.partition(x[group_order[a:b]], k)
        norm[g] = (vals[k] + (vals[:k].max() if m % 2 == 0 else vals[k])) / 2.0
    out = np.empty(len(x), dtype=np.bool_)
    for i in nb.prange(len(x)):
        out[i] = abs(x[i] - norm[group[i]]) > conformity
    return out


@nb.njit(**_JIT)
def bump(counter, i):
    """Add one to counter[i], saturating at LEDGER_MAX (ledger counters are uint16)."""
    if counter[i] < LEDGER_MAX:
        counter[i] += 1


@nb.njit(**_JIT)
def _apply_cuts(indptr, nbr, muted, rej, owners, others, hints, lost, owner_loses):
    """Cut the proposed ties owners[q]-others[q] in order, skipping those already gone.

    Returns (source, target) of the cuts made and the indices of the proposals that took effect;
    the loss goes to the owner (an excluded dissenter) or to the neighbour (dropped by a rewirer).
    Proposals name agents (with the slot they had as a hint): each cut moves the later ties of both blocks.
    """
    m = len(owners)
    src = np.empty(m, dtype=np.int64)
    dst = np.empty(m, dtype=np.int64)
    kept = np.empty(m, dtype=np.int64)
    c = 0
    for q in range(m):
        i, j = owners[q], others[q]
        s = tiestore.slot_of_nb(indptr, nbr, i, j, hints[q])
        if s >= 0:
            src[c] = i
            dst[c] = j
            kept[c] = q
            bump(lost, i if owner_loses else j)
            tiestore.cut_nb(indptr, nbr, muted, rej, s, i)
            c += 1
    return src[:c], dst[:c], kept[:c]


_CHUNKS = 64  # fixed work split of `_movers`: its output order never depends on the number of threads


@nb.njit(parallel=True, **_JIT)
def _movers(dissent, n_acc, withdrawn, over, u_exclude, u_form, u_rewire, exclude_rate, form_rate, rewire_rate):
    """Who may act in phase 4, in agent order: excluded dissenters, tie proposers, would-be rewirers.

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
            if dissent[i] and u_exclude[i] < exclude_rate:
                r |= 1
                c0 += 1
            if n_acc[i] > 0 and not withdrawn[i] and not over[i] and u_form[i] < form_rate:
                r |= 2
                c1 += 1
            if dissent[i] and u_rewire[i] < rewire_rate:
                r |= 4
                c2 += 1
            role[i] = r
        start[k + 1, 0], start[k + 1, 1], start[k + 1, 2] = c0, c1, c2
    for k in range(_CHUNKS):
        start[k + 1] += start[k]
    out = (np.empty(start[_CHUNKS, 0], dtype=np.int64), np.empty(start[_CHUNKS, 1], dtype=np.int64),
           np.empty(start[_CHUNKS, 2], dtype=np.int64))
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


@nb.njit(parallel=True, **_JIT)
def _exclusion_proposals(indptr, nbr, group, who, u_exclude, rate):
    """The in-group neighbour each excluded dissenter loses (-1 if it has none), and its slot."""
    prop = np.full(len(who), -1, dtype=np.int64)
    slot = np.full(len(who), -1, dtype=np.int64)
    for q in nb.prange(len(who)):  # proposals read the ties as they are before any cut
        i = who[q]
        end = indptr[i] + tiestore.alive_count_nb(indptr, nbr, i)
        count = 0
        for s in range(indptr[i], end):
            if group[nbr[s]] == group[i]:
                count += 1
        k = np.int64(math.floor(u_exclude[i] / rate * count))  # `sim.draws.given`
        for s in range(indptr[i], end):
            if group[nbr[s]] == group[i]:
                if k == 0:
                    prop[q] = nbr[s]
                    slot[q] = s
                    break
                k -= 1
    return prop, slot


def _exclude(t, group, who, u_exclude, rate, lost):
    prop, slot = _exclusion_proposals(t.indptr, t.nbr, group, who, u_exclude, rate)
    has = prop >= 0
    src, dst, _ = _apply_cuts(t.indptr, t.nbr, t.muted, t.rejections, who[has], prop[has], slot[has], lost, True)
    return src, dst


@nb.njit(parallel=True, **_JIT)
def _count_rejections(indptr, nbr, muted, mutes, rej, sender, sender_slot, rej_peer, mute_after):
    """Count each rejected sender against its slot and mute it at `mute_after`; True where a mute is new.

    The sender's slot lies in i's own block, so agents never write the same slot.
    """
    n = len(sender)
    newly = np.zeros(n, dtype=np.bool_)
    for i in nb.prange(n):
        if not rej_peer[i] or sender[i] < 0:  # few agents reject their peer's message: read their sender only
            continue
        s = tiestore.slot_of_nb(indptr, nbr, i, sender[i], sender_slot[i])  # -1: cut in the exclusion sub-phase
        if s >= 0:
            rej[s] = min(np.int64(rej[s]) + 1, 255)
            if not muted[s] and rej[s] >= mute_after:
                muted[s] = mutes[i] = True
                newly[i] = True
    return newly


@nb.njit(parallel=True, **_JIT)
def _mutual(indptr, nbr, muted, owners, others, hints):
    """Which newly muted ties are muted from the other end too (read in parallel), and their slots."""
    m = len(owners)
    both = np.zeros(m, dtype=np.bool_)
    slots = np.empty(m, dtype=np.int64)
    for q in nb.prange(m):
        s = tiestore.slot_of_nb(indptr, nbr, owners[q], others[q], hints[q])
        slots[q] = s
        both[q] = s >= 0 and muted[tiestore.reverse_slot(indptr, nbr, s, owners[q])]
    return both, slots


@nb.njit(**_JIT)
def _cut_mutual(indptr, nbr, muted, rej, owners, others, hints, lost):
    """Cut, in order, the ties muted from both ends; both ends lose the tie.

    A cut changes no other tie's mutes, so these are the ties `_mutual` found, less any already gone.
    """
    m = len(owners)
    c_src = np.empty(m, dtype=np.int64)
    c_dst = np.empty(m, dtype=np.int64)
    c = 0
    for q in range(m):
        i, j = owners[q], others[q]
        s = tiestore.slot_of_nb(indptr, nbr, i, j, hints[q])
        if s >= 0:
            c_src[c] = i
            c_dst[c] = j
            bump(lost, i)
            bump(lost, j)
            tiestore.cut_nb(indptr, nbr, muted, rej, s, i)
            c += 1
    return c_src[:c], c_dst[:c]


def _mute(t, sender, sender_slot, rej_peer, mute_after, lost):
    owners = np.flatnonzero(_count_rejections(t.indptr, t.nbr, t.muted, t.mutes, t.rejections, sender, sender_slot,
                                              rej_peer, mute_after))
    others, hints = sender[owners], sender_slot[owners]
    both, slots = _mutual(t.indptr, t.nbr, t.muted, owners, others, hints)
    cuts = _cut_mutual(t.indptr, t.nbr, t.muted, t.rejections, owners[both], others[both], slots[both], lost)
    return (owners, others), cuts


@nb.njit(**_JIT)
def _first_per_pair(a, b, n):
    """Indices of the first occurrence of each unordered pair, in their original order."""
    m = len(a)
    key = np.empty(m, dtype=np.int64)
    for q in range(m):
        key[q] = min(a[q], b[q]) * n + max(a[q], b[q])
    order = np.argsort(key, kind="mergesort")
    keep = np.zeros(m, dtype=np.bool_)
    for r in range(m):
        if r == 0 or key[order[r]] != key[order[r - 1]]:
            keep[order[r]] = True
    return np.flatnonzero(keep)


@nb.njit(parallel=True, **_JIT)
def _formation_proposals(indptr, nbr, x, withdrawn, group, group_order, group_start, who, u_form, rate,
                         in_group, acceptance):
    """The agent each proposer would tie to (close enough, not withdrawn, not yet linked), -1 for none."""
    n = len(x)
    prop = np.full(len(who), -1, dtype=np.int64)
    for q in nb.prange(len(who)):
        i = who[q]
        v = u_form[i] / rate  # `sim.draws.given`, then `split` at in_group
        if v < in_group:
            g = group[i]
            size = group_start[g + 1] - group_start[g]
            j = group_order[group_start[g] + np.int64(math.floor(v / in_group * size))]
        else:
            j = np.int64(math.floor(min((v - in_group) / (1.0 - in_group), BELOW_ONE) * n))
        if j != i and not withdrawn[j] and abs(x[i] - x[j]) < acceptance and not tiestore.linked_nb(indptr, nbr, i, j):
            prop[q] = j
    return prop


def _form_candidates(t, x, withdrawn, group, group_order, group_start, who, u_form, rate, in_group, acceptance):
    prop = _formation_proposals(t.indptr, t.nbr, x, withdrawn, group, group_order, group_start, who, u_form,
                                rate, in_group, acceptance)
    has = prop >= 0
    a, b = who[has], prop[has]
    keep = _first_per_pair(a, b, len(x))
    return a[keep], b[keep]


@nb.njit(parallel=True, **_JIT)
def _rewire_proposals(indptr, nbr, x, withdrawn, group, group_order, group_start, who, u_rewire, rate, acceptance):
    """For each would-be rewirer, the outsider it would tie to, the neighbour it would drop and its slot."""
    n = len(x)
    to = np.full(len(who), -1, dtype=np.int64)
    drop = np.full(len(who), -1, dtype=np.int64)
    slot = np.full(len(who), -1, dtype=np.int64)
    for q in nb.prange(len(who)):
        i = who[q]
        g = group[i]
        start = group_start[g]
        size = group_start[g + 1] - start
        others = n - size
        if others <= 0:
            continue
        k = np.int64(math.floor(u_rewire[i] / rate * others))  # `sim.draws.given`
        j = group_order[k if k < start else k + size]
        if abs(x[i] - x[j]) >= acceptance or withdrawn[j] or tiestore.linked_nb(indptr, nbr, i, j):
            continue
        worst_slot = -1
        worst = -1.0
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] < 0:
                break
            if abs(x[i] - x[nbr[s]]) > worst:
                worst_slot = s
                worst = abs(x[i] - x[nbr[s]])
        if worst_slot >= 0 and worst > acceptance:
            to[q] = j
            drop[q] = nbr[worst_slot]
            slot[q] = worst_slot
    return to, drop, slot


def _rewire_moves(t, x, withdrawn, group, group_order, group_start, who, u_rewire, rate, acceptance, lost):
    to, drop, slot = _rewire_proposals(t.indptr, t.nbr, x, withdrawn, group, group_order, group_start, who,
                                       u_rewire, rate, acceptance)
    has = to >= 0
    mi, mj = who[has], to[has]
    c_src, c_dst, kept = _apply_cuts(t.indptr, t.nbr, t.muted, t.rejections, mi, drop[has], slot[has], lost, False)
    mi, mj = mi[kept], mj[kept]
    keep = _first_per_pair(mi, mj, len(x))
    return c_src, c_dst, mi[keep], mj[keep]


@nb.njit(**_JIT)
def _insert(indptr, nbr, muted, rej, a, b, gained):
    for q in range(len(a)):
        tiestore.connect_one_nb(indptr, nbr, muted, rej, a[q], b[q])
        bump(gained, a[q])
        bump(gained, b[q])


def _connect(state: State, a: np.ndarray, b: np.ndarray) -> None:
    tiestore.ensure_room(state.ties, a, b)
    t = state.ties
    _insert(t.indptr, t.nbr, t.muted, t.rejections, a, b, state.ledger["ties_gained"])


def _params(cfg: Config) -> tuple:
    m, a, f, i = cfg.messages, cfg.attention, cfg.influence, cfg.identity
    return (m.peer, m.peer_rate, m.broadcast, m.broadcast_rate, m.forum, m.forum_rate, m.porosity, m.cap,
            a.enabled, a.capacity, a.literacy_effect, a.identity_buffer, a.withdrawal_rate, a.recovery_rate,
            a.withdrawn_below, f.enabled, f.acceptance, f.rejection, f.rate, f.contrast, f.critical_narrowing,
            f.identity_stability, cfg.stance.dominant, i.enabled, i.gain, i.decay)


def step_numba(state: State, cfg: Config, draws: Draws) -> StepReport:
    """Advance `state` in place by one step (compiled)."""
    state.t += 1
    e_t = level(state.t, cfg.exposure)
    t, ledger = state.ties, state.ledger
    x, e, load, over, withdrawn, n_acc, rej_peer, sender, sender_slot = _exchange(
        t.indptr, t.nbr, t.muted, t.mutes, state.stance, state.engagement, state.trust, state.literacy,
        state.identity, state.critical, draws.forum_content, draws.peer, draws.peer_pick,
        draws.broadcast, draws.forum, state.overloaded, state.withdrawn, ledger["identity_gains"],
        ledger["overload_episodes"], ledger["withdrawals"], e_t, _params(cfg))
    state.stance, state.engagement, state.load = x, e, load
    state.overloaded, state.withdrawn = over, withdrawn
    tc, lost = cfg.ties, ledger["ties_lost"]
    events: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    dissent = dissenters_nb(x, state.group, state.group_order, state.group_start, tc.conformity)
    excluded, proposers, rewirers = _movers(dissent, n_acc, withdrawn, over, draws.exclude, draws.form, draws.rewire,
                                            tc.exclusion_rate, tc.formation_rate, tc.rewire_rate)
    if tc.exclusion:
        events["excluded"] = _exclude(t, state.group, excluded, draws.exclude, tc.exclusion_rate, lost)
    if tc.muting:
        events["muted"], events["cut_mute"] = _mute(t, sender, sender_slot, rej_peer, tc.mute_after, lost)
    if tc.formation:
        a, b = _form_candidates(t, x, withdrawn, state.group, state.group_order, state.group_start, proposers,
                                draws.form, tc.formation_rate, tc.formation_in_group, cfg.influence.acceptance)
        _connect(state, a, b)
        events["formed"] = (a, b)
    if tc.rewiring:
        cs, cd, a, b = _rewire_moves(state.ties, x, withdrawn, state.group, state.group_order, state.group_start,
                                     rewirers, draws.rewire, tc.rewire_rate, cfg.influence.acceptance,
                                     lost)  # state.ties: making room may replace the arrays
        _connect(state, a, b)
        events["cut_rewire"], events["rewired"] = (cs, cd), (a, b)
    return StepReport(e_t, n_acc, events)
