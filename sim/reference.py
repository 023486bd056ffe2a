"""The per-agent reference step: the same rules as `sim.schedule`, one agent at a time.

Written to be read next to docs/ODD.md, not to be fast. Given the same state and the same draws
it produces the same next state as the vectorized step (tests/test_equivalence.py checks this).
Only the tie storage primitives (cut a tie, make room, fill a free slot) are shared.
"""

from __future__ import annotations

import math

import numpy as np

from sim import tiestore
from sim.draws import BELOW_ONE, Draws
from sim.params import Config
from sim.schedule import StepReport
from sim.state import LEDGER_MAX, State, as_f64
from sim.submodels.exposure import QUANTUM, capped, level


def bump(counter: np.ndarray, i: int) -> None:
    """Add one to counter[i], saturating at LEDGER_MAX."""
    if counter[i] < LEDGER_MAX:
        counter[i] += 1


def _block(state: State, i: int) -> range:
    return range(state.ties.indptr[i], state.ties.indptr[i + 1])


def step_reference(state: State, cfg: Config, draws: Draws) -> StepReport:
    """Advance `state` in place by one step, agent by agent."""
    state.t += 1
    n = state.n_agents
    ties = state.ties
    msg, att, inf, tc = cfg.messages, cfg.attention, cfg.influence, cfg.ties
    x_old = state.stance.copy()
    e_old = as_f64(state.engagement)  # stored float32, computed in float64 (sim.state)
    lit_of, trust, critical, ident_old = (as_f64(a) for a in (state.literacy, state.trust, state.critical,
                                                                state.identity))
    e_t = level(state.t, cfg.exposure)

    # 1. exposure: each agent's message volumes and its engagement-weighted peer sender
    sender_slot = [-1] * n
    volumes = []
    for i in range(n):
        weights = []
        for s in _block(state, i):
            j = ties.nbr[s]
            active = j >= 0 and not ties.muted[s]
            weights.append(int(math.floor(e_old[j] * QUANTUM)) if active else 0)
        total = sum(weights)
        v_peer = msg.peer_rate * e_t * total / QUANTUM if msg.peer else 0.0
        v_broadcast = msg.broadcast_rate * e_t if msg.broadcast else 0.0
        v_forum = msg.forum_rate * msg.porosity * e_t if msg.forum else 0.0
        volumes.append(capped(v_peer, v_broadcast, v_forum, msg.cap))
        if total > 0:
            target = int(math.floor(draws.peer_pick[i] * total))
            running = 0
            for s, w in zip(_block(state, i), weights, strict=True):
                running += w
                if running > target:
                    sender_slot[i] = s
                    break

    # the sending agent, not its slot: the cuts of phase 4 move slots
    sender = [int(ties.nbr[s]) if s >= 0 else -1 for s in sender_slot]

    # 2. attention
    was_overloaded = state.overloaded.copy()
    was_withdrawn = state.withdrawn.copy()
    attended = []
    for i in range(n):
        v_peer, v_broadcast, v_forum = volumes[i]
        lit = max(0.05, 1.0 + att.literacy_effect * (lit_of[i] - 0.5))
        cap = att.capacity * lit * (1.0 + att.identity_buffer * ident_old[i])
        load = (v_peer + v_broadcast + v_forum) / cap
        e = e_old[i]
        if att.enabled:
            over = load > 1.0
            p_attend = e / max(load, 1.0)
            if over:
                e_new = e * (1.0 - att.withdrawal_rate * min(1.0, load - 1.0))
            else:
                e_new = e + att.recovery_rate * (trust[i] - e)
        else:
            over, p_attend, e_new = False, 1.0, e
        state.load[i] = load
        state.overloaded[i] = over
        state.engagement[i] = min(1.0, max(0.0, e_new))
        state.withdrawn[i] = float(state.engagement[i]) < att.withdrawn_below  # the stored value
        attended.append((
            sender[i] >= 0 and draws.peer[i] < -math.expm1(-v_peer) * p_attend,
            draws.broadcast[i] < -math.expm1(-v_broadcast) * p_attend,
            draws.forum[i] < -math.expm1(-v_forum) * p_attend,
        ))

    # 3. influence: social judgment of each attended message, from the old stances
    n_accepted = np.zeros(n, dtype=np.int64)
    rejected_peer = [False] * n
    for i in range(n):
        if not inf.enabled:
            break
        x = x_old[i]
        mu = inf.rate / (1.0 + inf.identity_stability * ident_old[i])
        y_peer = x_old[sender[i]] if sender[i] >= 0 else x_old[0]
        messages = (
            (y_peer, attended[i][0], inf.acceptance),
            (cfg.stance.dominant, attended[i][1], inf.acceptance * (1.0 - inf.critical_narrowing * critical[i])),
            (draws.forum_content[i], attended[i][2], inf.acceptance),
        )
        delta = 0.0
        for channel, (y, seen, accept) in enumerate(messages):
            if not seen:
                continue
            d = abs(y - x)
            if d < accept:  # assimilation
                delta += mu * (y - x)
                n_accepted[i] += 1
            elif inf.contrast and d > inf.rejection:  # contrast
                delta -= mu * (y - x)
                if channel == 0:
                    rejected_peer[i] = True
        state.stance[i] = min(1.0, max(0.0, x + delta))
    x = state.stance

    # 4. ties
    events: dict[str, tuple[list, list]] = {}
    members_stances: dict[int, list[float]] = {}
    for i in range(n):
        members_stances.setdefault(int(state.group[i]), []).append(float(x[i]))
    norm = {}
    for g, values in members_stances.items():  # the group's median stance
        values.sort()
        m = len(values)
        norm[g] = (values[(m - 1) // 2] + values[m // 2]) / 2.0
    dissent = [abs(x[i] - norm[int(state.group[i])]) > tc.conformity for i in range(n)]

    def lose(*losers: int) -> None:  # counted for those who did not choose to drop the tie
        for a in losers:
            bump(state.ledger["ties_lost"], a)

    def gain(a: int, b: int) -> None:
        bump(state.ledger["ties_gained"], a)
        bump(state.ledger["ties_gained"], b)

    def slot_of(i: int, j: int) -> int:  # -1 once the tie is gone; slots move with every cut
        return next((s for s in _block(state, i) if ties.nbr[s] == j), -1)

    def cut(i: int, j: int, kind: str, *losers: int) -> None:
        events.setdefault(kind, ([], []))
        events[kind][0].append(i)
        events[kind][1].append(j)
        tiestore.cut(ties, np.array([slot_of(i, j)]))
        lose(*losers)

    def connect(pairs: list[tuple[int, int]], kind: str) -> None:
        need = np.zeros(n, dtype=np.int64)
        for a, b in pairs:
            need[a] += 1
            need[b] += 1
        tiestore.ensure_capacity(ties, need)
        for a, b in pairs:
            tiestore.connect_one(ties, a, b)
            gain(a, b)
        events[kind] = ([a for a, _ in pairs], [b for _, b in pairs])

    if tc.exclusion:  # 4a: a dissenter loses one in-group tie, chosen uniformly
        proposals = []
        for i in range(n):
            in_group = [s for s in _block(state, i)
                        if ties.nbr[s] >= 0 and state.group[ties.nbr[s]] == state.group[i]]
            if dissent[i] and draws.exclude[i] < tc.exclusion_rate and in_group:
                pick = draws.exclude[i] / tc.exclusion_rate  # `sim.draws.given`
                proposals.append((i, int(ties.nbr[in_group[int(math.floor(pick * len(in_group)))]])))
        events["excluded"] = ([], [])
        for i, j in proposals:
            if slot_of(i, j) >= 0:
                cut(i, j, "excluded", i)  # the dissenter loses the tie

    if tc.muting:  # 4b: count rejections per sender, mute, cut when muted from both ends
        events["muted"] = ([], [])
        events["cut_mute"] = ([], [])
        newly_muted = []
        for i in range(n):
            s = slot_of(i, sender[i]) if sender[i] >= 0 else -1
            if rejected_peer[i] and s >= 0:
                ties.rejections[s] = min(int(ties.rejections[s]) + 1, 255)
                if not ties.muted[s] and ties.rejections[s] >= tc.mute_after:
                    ties.muted[s] = ties.mutes[i] = True
                    events["muted"][0].append(i)
                    events["muted"][1].append(sender[i])
                    newly_muted.append((i, sender[i]))
        for i, j in newly_muted:
            s = slot_of(i, j)
            if s >= 0 and ties.muted[slot_of(j, i)]:
                cut(i, j, "cut_mute", i, j)  # both rejected, both lose it

    if tc.formation:  # 4c: engaged agents with an accepted exchange propose a tie
        pairs: list[tuple[int, int]] = []
        for i in range(n):
            if not (n_accepted[i] > 0 and not state.withdrawn[i] and not state.overloaded[i]
                    and draws.form[i] < tc.formation_rate):
                continue
            v, g = draws.form[i] / tc.formation_rate, tc.formation_in_group  # `sim.draws.given`, `split`
            if v < g:
                members = _members(state, int(state.group[i]))
                j = members[int(math.floor(v / g * len(members)))]
            else:
                j = int(math.floor(min((v - g) / (1.0 - g), BELOW_ONE) * n))
            if (j != i and not state.withdrawn[j] and abs(x[i] - x[j]) < inf.acceptance
                    and not _linked(state, i, j) and not _pair_in(pairs, i, j)):
                pairs.append((i, j))
        connect(pairs, "formed")

    if tc.rewiring:  # 4d: a dissenter moves its most disagreeing tie to a like-minded outsider
        moves = []
        for i in range(n):
            if not (dissent[i] and draws.rewire[i] < tc.rewire_rate):
                continue
            outsiders = [k for k in state.group_order if state.group[k] != state.group[i]]
            if not outsiders:
                continue
            j = outsiders[int(math.floor(draws.rewire[i] / tc.rewire_rate * len(outsiders)))]
            if abs(x[i] - x[j]) >= inf.acceptance or state.withdrawn[j] or _linked(state, i, j):
                continue
            drop, worst = -1, -1.0
            for s in _block(state, i):
                if ties.nbr[s] >= 0 and abs(x[i] - x[ties.nbr[s]]) > worst:
                    drop, worst = int(ties.nbr[s]), abs(x[i] - x[ties.nbr[s]])
            if drop >= 0 and worst > inf.acceptance:
                moves.append((i, j, drop))
        events["cut_rewire"] = ([], [])
        kept = []
        for i, j, drop in moves:
            if slot_of(i, drop) >= 0:  # another rewirer may have dropped this tie already
                cut(i, drop, "cut_rewire", drop)  # the dropped neighbour loses the tie
                kept.append((i, j))
        pairs = []
        for i, j in kept:
            if not _pair_in(pairs, i, j):
                pairs.append((i, j))
        connect(pairs, "rewired")

    # 5. identity and ledger
    for i in range(n):
        gained = False
        if cfg.identity.enabled:
            gained = n_accepted[i] > 0 and not state.withdrawn[i] and not state.overloaded[i]
            lit = max(0.05, 1.0 + att.literacy_effect * (lit_of[i] - 0.5))
            g = min(1.0, cfg.identity.gain * lit)
            ident = ident_old[i] + g * (1.0 - ident_old[i]) if gained else ident_old[i]
            state.identity[i] = ident * (1.0 - cfg.identity.decay)
        if gained:
            bump(state.ledger["identity_gains"], i)
        if state.overloaded[i] and not was_overloaded[i]:
            bump(state.ledger["overload_episodes"], i)
        if state.withdrawn[i] and not was_withdrawn[i]:
            bump(state.ledger["withdrawals"], i)

    as_arrays = {k: (np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)) for k, (a, b) in events.items()}
    return StepReport(e_t, n_accepted, as_arrays)


def _members(state: State, g: int) -> np.ndarray:
    return state.group_order[state.group_start[g]:state.group_start[g + 1]]


def _linked(state: State, i: int, j: int) -> bool:
    return any(state.ties.nbr[s] == j for s in _block(state, i))


def _pair_in(pairs: list[tuple[int, int]], i: int, j: int) -> bool:
    return (i, j) in pairs or (j, i) in pairs
