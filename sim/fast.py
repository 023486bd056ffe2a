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
from sim.draws import Draws
from sim.params import Config
from sim.schedule import StepReport
from sim.state import LEDGER_MAX, State
from sim.submodels.exposure import QUANTUM, level

_JIT = {"cache": True, "nogil": True}


@nb.njit(parallel=True, **_JIT)
def _exchange(indptr, nbr, muted, x, e, trust, literacy, identity, critical, forum_content,
              u_peer, u_pick, u_broadcast, u_forum, e_t, p):
    """Phases 1-3 (exposure, attention, influence) for every agent, from the old state."""
    (peer_on, peer_rate, broadcast_on, broadcast_rate, forum_on, forum_rate, porosity, msg_cap,
     att_on, capacity, literacy_effect, identity_buffer, withdrawal_rate, recovery_rate, withdrawn_below,
     inf_on, acceptance, rejection, rate, contrast, narrowing, stability, dominant) = p
    n = len(x)
    x_new = np.empty(n)
    e_new = np.empty(n, dtype=np.float32)
    load = np.empty(n, dtype=np.float32)
    over = np.zeros(n, dtype=np.bool_)
    withdrawn = np.zeros(n, dtype=np.bool_)
    n_acc = np.zeros(n, dtype=np.int64)
    rej_peer = np.zeros(n, dtype=np.bool_)
    sender = np.full(n, -1, dtype=np.int64)
    q = np.empty(n, dtype=np.int32)  # engagement weights (< 2**21): half the bytes to gather
    for i in nb.prange(n):
        q[i] = np.int32(math.floor(e[i] * QUANTUM))
    for i in nb.prange(n):  # agents are independent here: each writes only its own row
        total = 0
        for s in range(indptr[i], indptr[i + 1]):
            j = nbr[s]
            if j >= 0 and not muted[s]:
                total += q[j]
        v_peer = peer_rate * e_t * total / QUANTUM if peer_on else 0.0
        v_b = broadcast_rate * e_t if broadcast_on else 0.0
        v_f = forum_rate * porosity * e_t if forum_on else 0.0
        v_all = v_peer + v_b + v_f
        if msg_cap > 0 and v_all > msg_cap:
            scale = msg_cap / v_all
            v_peer, v_b, v_f = v_peer * scale, v_b * scale, v_f * scale
        if total > 0:
            target = np.int64(math.floor(u_pick[i] * total))
            running = 0
            for s in range(indptr[i], indptr[i + 1]):
                j = nbr[s]
                if j >= 0 and not muted[s]:
                    running += q[j]
                    if running > target:
                        sender[i] = s
                        break
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
        seen_peer = sender[i] >= 0 and u_peer[i] < -math.expm1(-v_peer) * p_attend
        seen_b = u_broadcast[i] < -math.expm1(-v_b) * p_attend
        seen_f = u_forum[i] < -math.expm1(-v_f) * p_attend
        # influence
        xi = x[i]
        if not inf_on:
            x_new[i] = xi
            continue
        mu = rate / (1.0 + stability * ident)
        delta = 0.0
        for channel in range(3):
            if channel == 0:
                if not seen_peer:
                    continue
                y = x[nbr[sender[i]]]
                accept = acceptance
            elif channel == 1:
                if not seen_b:
                    continue
                y = dominant
                accept = acceptance * (1.0 - narrowing * np.float64(critical[i]))
            else:
                if not seen_f:
                    continue
                y = forum_content[i]
                accept = acceptance
            d = abs(y - xi)
            if d < accept:
                delta += mu * (y - xi)
                n_acc[i] += 1
            elif contrast and d > rejection:
                delta -= mu * (y - xi)
                if channel == 0:
                    rej_peer[i] = True
        x_new[i] = min(1.0, max(0.0, xi + delta))
    return x_new, e_new, load, over, withdrawn, n_acc, rej_peer, sender


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
def _apply_cuts(indptr, nbr, muted, rej, slots, owners, lost, owner_loses):
    """Cut the proposed ties in order, skipping those already gone.

    Returns (source, target) of the cuts made and the indices of the proposals that took effect;
    the loss goes to the owner (an excluded dissenter) or to the neighbour (dropped by a rewirer).
    """
    m = len(slots)
    src = np.empty(m, dtype=np.int64)
    dst = np.empty(m, dtype=np.int64)
    kept = np.empty(m, dtype=np.int64)
    c = 0
    for q in range(m):
        s = slots[q]
        if nbr[s] >= 0:
            src[c] = owners[q]
            dst[c] = nbr[s]
            kept[c] = q
            bump(lost, owners[q] if owner_loses else nbr[s])
            tiestore.cut_nb(indptr, nbr, muted, rej, s, owners[q])
            c += 1
    return src[:c], dst[:c], kept[:c]


@nb.njit(**_JIT)
def _exclude(indptr, nbr, muted, rej, group, dissent, u, u_pick, rate, lost):
    n = len(group)
    prop_slot = np.empty(n, dtype=np.int64)
    prop_owner = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if not (dissent[i] and u[i] < rate):
            continue
        count = 0
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] >= 0 and group[nbr[s]] == group[i]:
                count += 1
        if count == 0:
            continue
        k = np.int64(math.floor(u_pick[i] * count))
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] >= 0 and group[nbr[s]] == group[i]:
                if k == 0:
                    prop_slot[m] = s
                    prop_owner[m] = i
                    m += 1
                    break
                k -= 1
    src, dst, _ = _apply_cuts(indptr, nbr, muted, rej, prop_slot[:m], prop_owner[:m], lost, True)
    return src, dst


@nb.njit(**_JIT)
def _mute(indptr, nbr, muted, rej, sender, rej_peer, mute_after, lost):
    n = len(sender)
    m_src = np.empty(n, dtype=np.int64)
    m_dst = np.empty(n, dtype=np.int64)
    new_slots = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        s = sender[i]
        if rej_peer[i] and s >= 0 and nbr[s] >= 0:
            rej[s] = min(np.int64(rej[s]) + 1, 255)
            if not muted[s] and rej[s] >= mute_after:
                muted[s] = True
                m_src[m] = i
                m_dst[m] = nbr[s]
                new_slots[m] = s
                m += 1
    c_src = np.empty(m, dtype=np.int64)
    c_dst = np.empty(m, dtype=np.int64)
    c = 0
    for q in range(m):
        s = new_slots[q]
        if nbr[s] >= 0 and muted[tiestore.reverse_slot(indptr, nbr, s, m_src[q])]:
            c_src[c] = m_src[q]
            c_dst[c] = nbr[s]
            bump(lost, m_src[q])
            bump(lost, nbr[s])
            tiestore.cut_nb(indptr, nbr, muted, rej, s, m_src[q])
            c += 1
    return m_src[:m], m_dst[:m], c_src[:c], c_dst[:c]


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


@nb.njit(**_JIT)
def _form_candidates(indptr, nbr, x, withdrawn, over, n_acc, group, group_order, group_start,
                     u, u_scope, u_pick, rate, in_group, acceptance):
    n = len(x)
    a = np.empty(n, dtype=np.int64)
    b = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if not (n_acc[i] > 0 and not withdrawn[i] and not over[i] and u[i] < rate):
            continue
        if u_scope[i] < in_group:
            g = group[i]
            size = group_start[g + 1] - group_start[g]
            j = group_order[group_start[g] + np.int64(math.floor(u_pick[i] * size))]
        else:
            j = np.int64(math.floor(u_pick[i] * n))
        if j != i and not withdrawn[j] and abs(x[i] - x[j]) < acceptance and not tiestore.linked_nb(indptr, nbr, i, j):
            a[m] = i
            b[m] = j
            m += 1
    keep = _first_per_pair(a[:m], b[:m], n)
    return a[keep], b[keep]


@nb.njit(**_JIT)
def _rewire_moves(indptr, nbr, muted, rej, x, withdrawn, group, group_order, group_start, dissent, u,
                  u_pick, rate, acceptance, lost):
    n = len(x)
    mi = np.empty(n, dtype=np.int64)
    mj = np.empty(n, dtype=np.int64)
    md = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if not (dissent[i] and u[i] < rate):
            continue
        g = group[i]
        start = group_start[g]
        size = group_start[g + 1] - start
        others = n - size
        if others <= 0:
            continue
        k = np.int64(math.floor(u_pick[i] * others))
        j = group_order[k if k < start else k + size]
        if abs(x[i] - x[j]) >= acceptance or withdrawn[j] or tiestore.linked_nb(indptr, nbr, i, j):
            continue
        drop = -1
        worst = -1.0
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] >= 0 and abs(x[i] - x[nbr[s]]) > worst:
                drop = s
                worst = abs(x[i] - x[nbr[s]])
        if drop >= 0 and worst > acceptance:
            mi[m] = i
            mj[m] = j
            md[m] = drop
            m += 1
    c_src, c_dst, kept = _apply_cuts(indptr, nbr, muted, rej, md[:m], mi[:m], lost, False)
    mi, mj = mi[kept], mj[kept]
    keep = _first_per_pair(mi, mj, n)
    return c_src, c_dst, mi[keep], mj[keep]


@nb.njit(**_JIT)
def _insert(indptr, nbr, muted, rej, a, b, gained):
    for q in range(len(a)):
        tiestore.connect_one_nb(indptr, nbr, muted, rej, a[q], b[q])
        bump(gained, a[q])
        bump(gained, b[q])


@nb.njit(**_JIT)
def _identity(identity, literacy, n_acc, withdrawn, over, was_over, was_withdrawn, on, gain, decay,
              literacy_effect, gains, episodes, withdrawals):
    for i in range(len(identity)):
        gained = False
        if on:
            gained = n_acc[i] > 0 and not withdrawn[i] and not over[i]
            lit = max(0.05, 1.0 + literacy_effect * (np.float64(literacy[i]) - 0.5))
            g = min(1.0, gain * lit)
            old = np.float64(identity[i])
            ident = old + g * (1.0 - old) if gained else old
            identity[i] = ident * (1.0 - decay)
        if gained:
            bump(gains, i)
        if over[i] and not was_over[i]:
            bump(episodes, i)
        if withdrawn[i] and not was_withdrawn[i]:
            bump(withdrawals, i)


def _connect(state: State, a: np.ndarray, b: np.ndarray) -> None:
    need = np.bincount(a, minlength=state.n_agents) + np.bincount(b, minlength=state.n_agents)
    tiestore.ensure_capacity(state.ties, need)
    t = state.ties
    _insert(t.indptr, t.nbr, t.muted, t.rejections, a, b, state.ledger["ties_gained"])


def _params(cfg: Config) -> tuple:
    m, a, f = cfg.messages, cfg.attention, cfg.influence
    return (m.peer, m.peer_rate, m.broadcast, m.broadcast_rate, m.forum, m.forum_rate, m.porosity, m.cap,
            a.enabled, a.capacity, a.literacy_effect, a.identity_buffer, a.withdrawal_rate, a.recovery_rate,
            a.withdrawn_below, f.enabled, f.acceptance, f.rejection, f.rate, f.contrast, f.critical_narrowing,
            f.identity_stability, cfg.stance.dominant)


def step_numba(state: State, cfg: Config, draws: Draws) -> StepReport:
    """Advance `state` in place by one step (compiled)."""
    state.t += 1
    e_t = level(state.t, cfg.exposure)
    t = state.ties
    was_over, was_withdrawn = state.overloaded, state.withdrawn
    x, e, load, over, withdrawn, n_acc, rej_peer, sender = _exchange(
        t.indptr, t.nbr, t.muted, state.stance, state.engagement, state.trust, state.literacy,
        state.identity, state.critical, draws.forum_content, draws.peer, draws.peer_pick,
        draws.broadcast, draws.forum, e_t, _params(cfg))
    state.stance, state.engagement, state.load = x, e, load
    state.overloaded, state.withdrawn = over, withdrawn
    tc, lost = cfg.ties, state.ledger["ties_lost"]
    events: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    dissent = dissenters_nb(x, state.group, state.group_order, state.group_start, tc.conformity)
    if tc.exclusion:
        events["excluded"] = _exclude(t.indptr, t.nbr, t.muted, t.rejections, state.group, dissent,
                                      draws.exclude, draws.exclude_pick, tc.exclusion_rate, lost)
    if tc.muting:
        ms, md, cs, cd = _mute(t.indptr, t.nbr, t.muted, t.rejections, sender, rej_peer, tc.mute_after, lost)
        events["muted"], events["cut_mute"] = (ms, md), (cs, cd)
    if tc.formation:
        a, b = _form_candidates(t.indptr, t.nbr, x, withdrawn, over, n_acc, state.group, state.group_order,
                                state.group_start, draws.form, draws.form_scope, draws.form_pick,
                                tc.formation_rate, tc.formation_in_group, cfg.influence.acceptance)
        _connect(state, a, b)
        events["formed"] = (a, b)
    if tc.rewiring:
        t = state.ties  # a repack in formation replaces the arrays
        cs, cd, a, b = _rewire_moves(t.indptr, t.nbr, t.muted, t.rejections, x, withdrawn, state.group,
                                     state.group_order, state.group_start, dissent, draws.rewire,
                                     draws.rewire_pick, tc.rewire_rate, cfg.influence.acceptance, lost)
        _connect(state, a, b)
        events["cut_rewire"], events["rewired"] = (cs, cd), (a, b)
    ic = cfg.identity
    _identity(state.identity, state.literacy, n_acc, withdrawn, over, was_over, was_withdrawn, ic.enabled,
              ic.gain, ic.decay, cfg.attention.literacy_effect, state.ledger["identity_gains"],
              state.ledger["overload_episodes"], state.ledger["withdrawals"])
    return StepReport(e_t, n_acc, events)
