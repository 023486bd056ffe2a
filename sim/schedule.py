"""The process overview (ODD 'Process overview and scheduling'): one synchronous step.

    1. exposure   E(t); expected messages from peers (along unmuted ties, scaled by the senders'
                  engagement), the broadcast and the general forum; one engagement-weighted
                  peer sender per agent
    2. attention  load = volume / capacity; a message that arrives is attended with probability
                  engagement / max(load, 1), so overloaded agents miss a growing share and
                  withdraw; the others recover toward their tech trust
    3. influence  social judgment of each attended message (assimilate inside U, contrast beyond
                  T), summed over channels from the old stances
    4. ties       exclusion of dissenters, muting of rejected senders (cut when mutual),
                  formation of new ties, homophilous rewiring - in that order
    5. identity   identity clarity and the effect ledger
    6. metrics    recorded after the step by the model's observers (sim.runner attaches the
                  metrics recorder, sim.metrics)

All randomness comes in `draws` (sim.draws), so this function and its per-agent twin in
`sim.reference` map the same (state, draws) to the same next state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.draws import Draws, given, split
from sim.params import Config
from sim.state import FRACTION, State, as_f64
from sim.submodels import attention, exposure, identity, influence, ties
from sim.submodels.ties import EVENT_KINDS


@dataclass
class StepReport:
    """What happened in a step that is not part of the state (for metrics and event logs)."""

    exposure: float
    n_accepted: np.ndarray  # int64 per agent
    # (source, target) by sub-phase: excluded, muted, cut_mute, formed, cut_rewire, rewired
    events: dict[str, tuple[np.ndarray, np.ndarray]]

    def event_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Events as (source, target, kind code), grouped by kind in EVENT_KINDS order.

        Ties cut by mutual muting and ties dropped by rewiring are both of kind `cut`.
        """
        src, dst, kind = [], [], []
        for code, name in enumerate(EVENT_KINDS):
            for part in ((name,) if name != "cut" else ("cut", "cut_mute", "cut_rewire")):
                a, b = self.events.get(part, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
                src.append(np.asarray(a, dtype=np.int64))
                dst.append(np.asarray(b, dtype=np.int64))
                kind.append(np.full(len(a), code, dtype=np.int8))
        return np.concatenate(src), np.concatenate(dst), np.concatenate(kind)


def step_vectorized(state: State, cfg: Config, draws: Draws) -> StepReport:
    """Advance `state` in place by one step."""
    state.t += 1
    x = state.stance
    lit, trust, crit = as_f64(state.literacy), as_f64(state.trust), as_f64(state.critical)
    eng, ident = as_f64(state.engagement), as_f64(state.identity)
    # 1. exposure
    e_t = exposure.level(state.t, cfg.exposure)
    w = exposure.sender_weights(state)
    w_total = state.ties.block_sum(w)
    v_peer, v_broadcast, v_forum = exposure.volumes(state, w_total, e_t, cfg.messages)
    sender_slot = exposure.pick_senders(state, w, w_total, draws.peer_pick)
    # the sending agent, not its slot: the cuts of phase 4 move slots
    sender = np.where(sender_slot >= 0, state.ties.nbr[np.maximum(sender_slot, 0)], -1)
    # 2. attention
    was_overloaded, was_withdrawn = state.overloaded, state.withdrawn
    load, overloaded, att_peer, att_b, att_f, engagement = attention.attend(
        eng, trust, lit, ident, v_peer, v_broadcast, v_forum,
        draws.peer, draws.broadcast, draws.forum, cfg.attention)
    att_peer &= sender_slot >= 0
    state.load, state.overloaded = load.astype(FRACTION), overloaded
    state.engagement = engagement.astype(FRACTION)
    state.withdrawn = as_f64(state.engagement) < cfg.attention.withdrawn_below
    # 3. influence
    new_x, n_accepted, rejected_peer = influence.influence(
        x, ident, crit, x[np.maximum(sender, 0)], att_peer, att_b, cfg.stance.dominant,
        draws.forum_content, att_f, cfg.influence)
    state.stance = new_x
    # 4. ties
    events: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    tc = cfg.ties
    dissent = ties.dissenters(state, new_x, tc.conformity)
    if tc.exclusion:
        events["excluded"] = ties.exclude(state, dissent, draws.exclude, given(draws.exclude, tc.exclusion_rate), tc)
    if tc.muting:
        events["muted"], events["cut_mute"] = ties.mute(state, sender, rejected_peer, tc)
    if tc.formation:
        eligible = (n_accepted > 0) & ~state.withdrawn & ~state.overloaded
        scope = given(draws.form, tc.formation_rate)  # below formation_in_group: inside the group
        events["formed"] = ties.form(state, new_x, eligible, draws.form, scope, split(scope, tc.formation_in_group)[1],
                                     tc, cfg.influence)
    if tc.rewiring:
        events["cut_rewire"], events["rewired"] = ties.rewire(state, new_x, dissent, draws.rewire,
                                                              given(draws.rewire, tc.rewire_rate), tc,
                                                              cfg.influence)
    # 5. identity and ledger
    new_identity, gained = identity.update_identity(
        ident, lit, n_accepted, state.withdrawn, state.overloaded, cfg.identity, cfg.attention)
    state.identity = new_identity.astype(FRACTION)
    identity.count_transitions(state.ledger, gained, state.overloaded, was_overloaded,
                               state.withdrawn, was_withdrawn)
    return StepReport(e_t, n_accepted, events)
