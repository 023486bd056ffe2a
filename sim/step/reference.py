"""The per-agent reference step: the ODD's schedule (docs/ODD.md §3), one phase per function, one agent at a time.

Read it next to the ODD: `step_reference` calls the phases in schedule order, and each phase walks
the agents and applies the rules of its mechanism module (`sim.step.exposure`, `attention`,
`influence`, `ties`, `identity`), which hold every formula. What one phase hands to the next lives in
a small record, `Scratch`. The compiled step (`sim.step.compiled`) calls the same rules, fused into
a few passes; given the same state and draws both produce the same next state
(tests/unit/test_equivalence.py). Written to be read, not to be fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.config.params import Config
from sim.core import tiestore
from sim.core.draws import Draws
from sim.core.report import StepReport
from sim.core.state import State, as_f64
from sim.step import attention, exposure, identity, influence, ties
from sim.step.records import Params, params

NO_SENDER = -1


@dataclass
class Scratch:
    """What a step carries from one phase to the next (not part of the state)."""

    e_t: float  # exposure E(t)
    x_old: np.ndarray  # stances at the start of the step: every influence reads these
    ident_old: np.ndarray  # identity clarity at the start of the step (float64)
    was_overloaded: np.ndarray
    was_withdrawn: np.ndarray
    was_overload_withdrawn: np.ndarray
    volumes: list[tuple[float, float, float]] = field(default_factory=list)  # peer, broadcast, forum
    sender: list[int] = field(default_factory=list)  # the drawn peer sender (an agent), NO_SENDER if none
    attended: list[tuple[bool, bool, bool]] = field(default_factory=list)  # peer, broadcast, forum
    n_accepted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    rejected_peer: list[bool] = field(default_factory=list)
    resisted: list[bool] = field(default_factory=list)  # a seen broadcast not accepted
    dissent: list[bool] = field(default_factory=list)
    events: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)  # (source, target) by kind


def step_reference(state: State, cfg: Config, draws: Draws) -> StepReport:
    """Advance `state` in place by one step, agent by agent, phase by phase."""
    state.t += 1
    p = params(cfg)
    s = Scratch(
        e_t=exposure.level(state.t, cfg.exposure),
        x_old=state.stance.copy(),
        ident_old=as_f64(state.identity),
        was_overloaded=state.overloaded.copy(),
        was_withdrawn=state.withdrawn.copy(),
        was_overload_withdrawn=state.overload_withdrawn.copy(),
    )
    expose(state, p, draws, s)  # 1
    attend(state, p, draws, s)  # 2
    influence_stances(state, p, draws, s)  # 3
    s.dissent = [
        bool(d)
        for d in ties.dissenters_nb(state.stance, state.group, state.group_order, state.group_start, p.conformity)
    ]
    if p.exclusion:  # 4a
        exclude(state, p, draws, s)
    if p.muting:  # 4b
        mute(state, p, s)
    if p.formation:  # 4c
        form(state, p, draws, s)
    if p.rewiring:  # 4d
        rewire(state, p, draws, s)
    update_identity(state, p, s)  # 5
    events = {k: (np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)) for k, (a, b) in s.events.items()}
    return StepReport(s.e_t, s.n_accepted, events)


# 1. exposure -------------------------------------------------------------------------------------------


def expose(state: State, p: Params, draws: Draws, s: Scratch) -> None:
    """Each agent's message volumes, and its peer sender drawn in proportion to engagement."""
    ties_ = state.ties
    weight = [int(exposure.sender_weight(e)) for e in state.engagement]
    for i in range(state.n_agents):
        active = [int(ties_.nbr[k]) for k in _block(state, i) if not ties_.muted[k]]
        total = sum(weight[j] for j in active)
        volumes = exposure.capped(
            exposure.peer_volume(total, s.e_t, p),
            exposure.broadcast_volume(s.e_t, p),
            exposure.forum_volume(s.e_t, p),
            p,
        )
        sender, running = NO_SENDER, 0
        if total > 0:
            target = exposure.sender_target(float(draws.peer_pick[i]), total)
            for j in active:
                running += weight[j]
                if exposure.is_sender(running, target):
                    sender = j
                    break
        s.volumes.append(volumes)
        s.sender.append(sender)


# 2. attention ------------------------------------------------------------------------------------------


def attend(state: State, p: Params, draws: Draws, s: Scratch) -> None:
    """Intake, load, overload, engagement and withdrawal; which arriving messages are attended."""
    for i in range(state.n_agents):
        e = float(state.engagement[i])
        v_peer, v_broadcast, v_forum = attention.taken_in(*s.volumes[i], e, p)
        lit = attention.literacy_factor(float(state.literacy[i]), p)
        ld = attention.load(v_peer, v_broadcast, v_forum, attention.capacity(lit, float(s.ident_old[i]), p))
        over, p_attend, e_next = attention.attend(e, float(state.trust[i]), ld, p)
        state.load[i] = ld
        state.overloaded[i] = over
        state.engagement[i] = e_next  # stored as float32: withdrawal reads the stored value
        state.withdrawn[i] = attention.is_withdrawn(state.engagement[i], p)
        state.overload_withdrawn[i] = attention.withdrawn_by_overload(
            bool(state.withdrawn[i]), bool(s.was_withdrawn[i]), bool(s.was_overload_withdrawn[i]), over
        )
        s.attended.append(
            (
                s.sender[i] != NO_SENDER and attention.seen(float(draws.peer[i]), exposure.arrival(v_peer), p_attend),
                attention.seen(float(draws.broadcast[i]), exposure.arrival(v_broadcast), p_attend),
                attention.seen(float(draws.forum[i]), exposure.arrival(v_forum), p_attend),
            )
        )


# 3. influence ------------------------------------------------------------------------------------------


def influence_stances(state: State, p: Params, draws: Draws, s: Scratch) -> None:
    """Social judgment of every attended message, from the stances at the start of the step.

    An agent's latitudes of acceptance narrow with the share of its in-group ties it has lost.
    """
    s.n_accepted = np.zeros(state.n_agents, dtype=np.int8)
    for i in range(state.n_agents):
        loss = _loss(state, i)
        seen_peer, seen_broadcast, seen_forum = s.attended[i]
        y_peer = float(s.x_old[s.sender[i]]) if seen_peer else 0.0
        x, accepted, rejected, resisted = influence.new_stance(
            float(s.x_old[i]),
            y_peer,
            float(s.ident_old[i]),
            float(state.critical[i]),
            float(state.trust[i]),
            loss,
            float(draws.forum_content[i]),
            seen_peer,
            seen_broadcast,
            seen_forum,
            p,
        )
        state.stance[i] = x
        s.n_accepted[i] = accepted
        s.rejected_peer.append(bool(rejected))
        s.resisted.append(bool(resisted))


# 4. ties -----------------------------------------------------------------------------------------------


def exclude(state: State, p: Params, draws: Draws, s: Scratch) -> None:
    """4a: an excluded dissenter loses one in-group tie, chosen uniformly; proposals read the ties before any cut.

    A dissenter's chance grows with its asociality: its engagement after attention, and the share of
    its ties it had muted at the start of the step.
    """
    proposals = []
    for i in range(state.n_agents):
        block = _block(state, i)
        n_muted = sum(1 for k in block if state.ties.muted[k])
        asocial = float(ties.asociality(float(state.engagement[i]), n_muted, len(block)))
        if not ties.excluded(s.dissent[i], asocial, float(draws.exclude[i]), p):
            continue
        in_group = [int(j) for j in _neighbours(state, i) if state.group[j] == state.group[i]]
        k = int(ties.exclusion_pick(float(draws.exclude[i]), len(in_group), asocial, p))
        if in_group:
            proposals.append((i, in_group[k]))
    _record(s, "excluded")
    for i, j in proposals:
        if _linked(state, i, j):
            _cut(state, s, i, j, "excluded", losers=(i,))  # the dissenter loses the tie


def mute(state: State, p: Params, s: Scratch) -> None:
    """4b: a rejected peer message counts against its sender; mute at mute_after; cut a tie muted from both ends."""
    ties_ = state.ties
    _record(s, "muted")
    _record(s, "cut_mute")
    newly_muted = []
    for i in range(state.n_agents):
        slot = _slot(state, i, s.sender[i]) if s.rejected_peer[i] else -1  # -1: gone in 4a
        if slot < 0:
            continue
        ties_.rejections[slot] = ties.counted_rejections(ties_.rejections[slot])
        if ties.mutes_sender(bool(ties_.muted[slot]), int(ties_.rejections[slot]), p):
            ties_.muted[slot] = ties_.mutes[i] = True
            _add_event(s, "muted", i, s.sender[i])
            newly_muted.append((i, s.sender[i]))
    for i, j in newly_muted:
        if _linked(state, i, j) and ties_.muted[_slot(state, j, i)]:
            _cut(state, s, i, j, "cut_mute", losers=(i, j))  # both rejected, both lose it


def form(state: State, p: Params, draws: Draws, s: Scratch) -> None:
    """4c: an engaged agent with an accepted exchange proposes a tie; an accepting target forms it."""
    pairs: list[tuple[int, int]] = []
    for i in range(state.n_agents):
        if not ties.proposes(
            int(s.n_accepted[i]), bool(state.withdrawn[i]), bool(state.overloaded[i]), float(draws.form[i]), p
        ):
            continue
        j = int(
            ties.formation_candidate(
                float(draws.form[i]), int(state.group[i]), state.group_order, state.group_start, state.n_agents, p
            )
        )
        if (
            j != i
            and ties.accepts_tie(float(state.stance[i]), float(state.stance[j]), bool(state.withdrawn[j]), p)
            and not _linked(state, i, j)
            and not _pair_in(pairs, i, j)
        ):
            pairs.append((i, j))
    _connect(state, s, pairs, "formed")


def rewire(state: State, p: Params, draws: Draws, s: Scratch) -> None:
    """4d: a marginalized dissenter moves its most disagreeing tie (beyond homophily) to an accepting outsider.

    Its chance grows with the share of its initial in-group ties it has lost, on the ties at the start of 4d.
    """
    x = state.stance
    moves = []
    for i in range(state.n_agents):
        chance = float(ties.rewire_chance(_loss(state, i), p))
        if not ties.rewires(s.dissent[i], float(draws.rewire[i]), chance):
            continue
        j = int(
            ties.rewire_candidate(
                float(draws.rewire[i]),
                chance,
                int(state.group[i]),
                state.group_order,
                state.group_start,
                state.n_agents,
            )
        )
        if j < 0 or not ties.accepts_tie(float(x[i]), float(x[j]), bool(state.withdrawn[j]), p) or _linked(state, i, j):
            continue
        slot, distance = ties.most_disagreeing(state.ties.indptr, state.ties.nbr, x, i)
        if ties.worth_dropping(slot, distance, p):
            moves.append((i, j, int(state.ties.nbr[slot])))
    _record(s, "cut_rewire")
    pairs: list[tuple[int, int]] = []
    for i, j, drop in moves:
        if _linked(state, i, drop):  # another rewirer may have dropped this tie already
            _cut(state, s, i, drop, "cut_rewire", losers=(drop,))  # the dropped neighbour loses the tie
            if not _pair_in(pairs, i, j):
                pairs.append((i, j))
    _connect(state, s, pairs, "rewired")


# 5. identity and ledger --------------------------------------------------------------------------------


def update_identity(state: State, p: Params, s: Scratch) -> None:
    """Identity clarity, tech trust, and the ledger's identity gains, new overload episodes and new withdrawals."""
    ledger = state.ledger
    for i in range(state.n_agents):
        state.trust[i] = attention.next_trust(
            float(state.trust[i]), int(s.n_accepted[i]), bool(state.overloaded[i]), s.resisted[i], p
        )
        gained = identity.gains(int(s.n_accepted[i]), bool(state.withdrawn[i]), bool(state.overloaded[i]), p)
        lit = attention.literacy_factor(float(state.literacy[i]), p)
        state.identity[i] = identity.next_identity(float(s.ident_old[i]), gained, lit, p)
        if gained:
            identity.bump(ledger["identity_gains"], i)
        if identity.began(bool(state.overloaded[i]), bool(s.was_overloaded[i])):
            identity.bump(ledger["overload_episodes"], i)
        if identity.began(bool(state.withdrawn[i]), bool(s.was_withdrawn[i])):
            identity.bump(ledger["withdrawals"], i)


# the tie store, one tie at a time ----------------------------------------------------------------------


def _block(state: State, i: int) -> range:
    """Agent i's alive slots: blocks are compact, the ties end at the first free slot."""
    start = int(state.ties.indptr[i])
    return range(start, start + int(tiestore.alive_count_nb(state.ties.indptr, state.ties.nbr, i)))


def _loss(state: State, i: int) -> float:
    """The share of its initial in-group ties agent i has lost, on the ties as they are now."""
    in_deg = ties.in_group_degree(state.ties.indptr, state.ties.nbr, state.group, i)
    return float(ties.lost_share(in_deg, int(state.in_group_degree0[i])))


def _neighbours(state: State, i: int) -> list[int]:
    return [int(state.ties.nbr[k]) for k in _block(state, i)]


def _slot(state: State, i: int, j: int) -> int:
    """The slot of i's tie to j, -1 if there is none (slots move with every cut)."""
    return next((k for k in _block(state, i) if state.ties.nbr[k] == j), -1)


def _linked(state: State, i: int, j: int) -> bool:
    return _slot(state, i, j) >= 0


def _pair_in(pairs: list[tuple[int, int]], i: int, j: int) -> bool:
    return (i, j) in pairs or (j, i) in pairs


def _record(s: Scratch, kind: str) -> None:
    s.events.setdefault(kind, ([], []))


def _add_event(s: Scratch, kind: str, i: int, j: int) -> None:
    _record(s, kind)
    s.events[kind][0].append(i)
    s.events[kind][1].append(j)


def _cut(state: State, s: Scratch, i: int, j: int, kind: str, losers: tuple[int, ...]) -> None:
    """Cut the tie i-j; the losers (those who did not choose to drop it) count a lost tie."""
    tiestore.cut(state.ties, np.array([_slot(state, i, j)]))
    _add_event(s, kind, i, j)
    for a in losers:
        identity.bump(state.ledger["ties_lost"], a)


def _connect(state: State, s: Scratch, pairs: list[tuple[int, int]], kind: str) -> None:
    """Form the ties of `pairs`, in order, making room first; both ends count a gained tie."""
    need = np.zeros(state.n_agents, dtype=np.int64)
    for a, b in pairs:
        need[a] += 1
        need[b] += 1
    tiestore.ensure_capacity(state.ties, need)
    _record(s, kind)
    for a, b in pairs:
        tiestore.connect_one(state.ties, a, b)
        _add_event(s, kind, a, b)
        identity.bump(state.ledger["ties_gained"], a)
        identity.bump(state.ledger["ties_gained"], b)
