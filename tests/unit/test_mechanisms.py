"""One hand-computed case (or a few) per mechanism (ODD 4): the rules the two forms of the step run.

A case that checks one formula calls the mechanism's scalar rule (`sim.step.exposure`, `attention`,
`influence`, `ties`, `identity`) with the parameter record of a quiet config that switches on only what
it needs. A case that checks a phase on a hand-made state (the drawn sender, muted ties, the tie
sub-phases, the ledger) runs one step of both the per-agent reference and the compiled step on it, with
uniforms chosen to force the outcome, and checks the same hand-computed result for each.
"""

import math

import numpy as np
import pytest

from sim.config.params import Config, ExposureConfig, MessagesConfig
from sim.core import tiestore
from sim.core.draws import BELOW_ONE
from sim.step import attention, exposure, identity, influence, ties
from sim.step.compiled import step_compiled
from sim.step.records import params
from sim.step.reference import step_reference
from tests.support.states import make_draws, make_state, quiet_config
from tests.support.ties import ties_of

both_steps = pytest.mark.parametrize("step", [step_reference, step_compiled], ids=["reference", "compiled"])


def _events(report, kind):
    """The (sources, targets) of one kind of tie event of a step, as lists."""
    a, b = report.events.get(kind, ((), ()))
    return [int(v) for v in a], [int(v) for v in b]


# exposure ---------------------------------------------------------------------------------
def test_constant_exposure_is_the_baseline():
    assert exposure.level(500, ExposureConfig(kind="constant", baseline=1.5)) == 1.5


def test_shock_schedule_before_during_after():
    cfg = ExposureConfig(kind="shock", baseline=1.0, start=10, length=5, height=2.0, persistence=0.25)
    assert [exposure.level(t, cfg) for t in (9, 10, 14, 15, 100)] == [1.0, 3.0, 3.0, 1.5, 1.5]
    cfg.relaxation = 10.0
    assert exposure.level(25, cfg) == pytest.approx(1.0 + 0.5 * math.exp(-1.0))


def _messages_config(cap=0.0):
    cfg = quiet_config()
    cfg.exposure.baseline = 2.0  # E = 2
    m = cfg.messages
    m.peer = m.broadcast = m.forum = True
    m.peer_rate, m.broadcast_rate, m.forum_rate, m.porosity, m.cap = 0.5, 3.0, 4.0, 0.5, cap
    return cfg


def test_peer_volume_and_engagement_weights():
    p = params(_messages_config())
    total = exposure.sender_weight(0.25) + exposure.sender_weight(0.75)
    assert total == exposure.QUANTUM  # 0.25 + 0.75
    assert exposure.peer_volume(total, 2.0, p) == 1.0  # 0.5 per tie x E=2 x summed sender engagement 1
    assert exposure.peer_volume(exposure.sender_weight(1.0), 2.0, p) == 1.0  # one sender at engagement 1
    assert exposure.broadcast_volume(2.0, p) == 6.0 and exposure.forum_volume(2.0, p) == 4.0
    # the sender: the first tie whose cumulative weight passes floor(u x total)
    w1 = exposure.sender_weight(0.25)
    assert exposure.is_sender(w1, exposure.sender_target(0.2, total))  # 0.2 falls in sender 1's quarter
    assert not exposure.is_sender(w1, exposure.sender_target(0.3, total))
    assert exposure.is_sender(total, exposure.sender_target(0.3, total))  # ... and 0.3 in sender 2's


@both_steps
@pytest.mark.parametrize(("pick", "sender_stance"), [(0.2, 0.6), (0.3, 0.4)])
def test_engagement_weighted_sender_and_volumes(step, pick, sender_stance):
    # 0 is tied to 1 (engagement 0.25, stance 0.6) and 2 (engagement 0.75, stance 0.4)
    st = make_state([0.5, 0.6, 0.4], [(0, 1), (0, 2)], engagement=[1.0, 0.25, 0.75])
    cfg = _messages_config()
    cfg.influence.enabled = True
    cfg.attention.capacity = 10.0  # attention off: the load is still computed, nothing is missed
    # every agent sees its peer's message; the broadcast and forum arrive with chance < BELOW_ONE: never
    report = step(st, cfg, make_draws(3, peer=0.0, peer_pick=pick))
    # 0.2 falls in sender 1's quarter (0.5 + 0.2 x 0.1), 0.3 in sender 2's (0.5 - 0.2 x 0.1)
    assert st.stance[0] == pytest.approx(0.5 + 0.2 * (sender_stance - 0.5))
    assert int(report.n_accepted[0]) == 1
    # every agent: peer 1 (0.5 x E=2 x engagement 1 of its senders) + broadcast 6 + forum 4 = 11, capacity 10
    assert np.asarray(st.load, dtype=float).tolist() == pytest.approx([1.1] * 3)


def test_cap_scales_every_channel_alike_and_only_above_the_cap():
    p = params(_messages_config(cap=5.5))
    assert exposure.is_capped(1.0, 6.0, 4.0, p)  # uncapped: 1 + 6 + 4 = 11
    v_peer, v_b, v_f = exposure.capped(1.0, 6.0, 4.0, p)
    assert v_peer + v_b + v_f == pytest.approx(5.5)
    assert (v_peer, v_b, v_f) == pytest.approx((0.5, 3.0, 2.0))
    p = params(_messages_config(cap=20.0))  # above the volume: nothing changes
    assert not exposure.is_capped(1.0, 6.0, 4.0, p) and exposure.capped(1.0, 6.0, 4.0, p) == (1.0, 6.0, 4.0)
    p = params(_messages_config(cap=0.0))  # 0: no cap
    assert not exposure.is_capped(1.0, 6.0, 4.0, p) and exposure.capped(1.0, 6.0, 4.0, p) == (1.0, 6.0, 4.0)


def _peer_config():
    cfg = quiet_config()
    cfg.messages.peer = True  # E = 1, 0.3 per tie: a message arrives with chance 1 - e^-0.3 at engagement 1
    cfg.influence.enabled = True
    return cfg


@both_steps
def test_muted_and_cut_ties_send_nothing(step):
    for u in (0.0, 0.5, 0.999):
        st = make_state([0.5, 0.6, 0.4], [(0, 1), (0, 2)])
        s2 = st.ties.indptr[0] + 1
        assert st.ties.nbr[s2] == 2
        st.ties.muted[s2] = st.ties.mutes[0] = True  # 0 muted 2 (`mutes`: its block holds a mute)
        report = step(st, _peer_config(), make_draws(3, peer=0.0, peer_pick=u))
        assert st.stance[0] == pytest.approx(0.52)  # always from 1 (0.6), never from 2 (0.4)
        assert int(report.n_accepted[0]) == 1
    st = make_state([0.5, 0.6, 0.4], [(0, 1), (0, 2)])
    st.ties.muted[st.ties.indptr[0] + 1] = st.ties.mutes[0] = True
    tiestore.cut(st.ties, np.array([st.ties.indptr[0]]))  # cut 0-1: 0 is left with its muted tie to 2
    assert ties_of(st.ties, 0) == [2]
    report = step(st, _peer_config(), make_draws(3, peer=0.0, peer_pick=0.0))
    assert st.stance[0] == 0.5 and int(report.n_accepted[0]) == 0  # no sender
    assert st.stance[2] == pytest.approx(0.4 + 0.2 * 0.1)  # 2 still hears 0: the mute is one-way


# attention --------------------------------------------------------------------------------
def test_overload_halves_attention_and_withdraws():
    cfg = quiet_config()
    a = cfg.attention
    a.enabled = True
    a.capacity, a.literacy_effect, a.identity_buffer, a.withdrawal_rate, a.recovery_rate = 10.0, 1.0, 0.0, 0.2, 0.05
    p = params(cfg)
    cap = attention.capacity(attention.literacy_factor(0.5, p), 0.0, p)
    assert cap == 10.0
    # at engagement 0.8 an agent takes in 0.8 of what is offered: 25 -> 20, 6.25 -> 5 peer messages
    assert attention.intake(0.8, p) == 0.8
    taken = [attention.taken_in(v_peer, 0.0, 0.0, 0.8, p) for v_peer in (25.0, 6.25)]
    assert taken == [(20.0, 0.0, 0.0), (5.0, 0.0, 0.0)]
    loads = [attention.load(*v, cap) for v in taken]
    assert loads == [2.0, 0.5]
    over0, p0, e0 = attention.attend(0.8, 0.6, loads[0], p)
    over1, p1, e1 = attention.attend(0.8, 0.6, loads[1], p)
    assert (over0, over1) == (True, False)
    assert e0 == pytest.approx(0.8 * (1 - 0.2))  # full overload (load - 1 >= 1)
    assert e1 == pytest.approx(0.8 + 0.05 * (0.6 - 0.8))  # recovers toward trust
    assert (p0, p1) == (0.5, 1.0)  # 1 / load when overloaded (load 2: half), else all it takes in
    # attends with prob (1 - e^-v) / max(load, 1), v the volume taken in: about 0.5 for agent 0, 0.9933 for 1
    assert exposure.arrival(20.0) * p0 == pytest.approx(0.5 * (1 - math.exp(-20.0)))
    assert attention.seen(0.49, exposure.arrival(20.0), p0) and not attention.seen(0.51, exposure.arrival(20.0), p0)
    assert exposure.arrival(5.0) * p1 == pytest.approx(1 - math.exp(-5.0))
    assert attention.seen(0.99, exposure.arrival(5.0), p1) and not attention.seen(0.994, exposure.arrival(5.0), p1)
    assert not attention.seen(0.0, exposure.arrival(0.0), p0)  # nothing arrives on an empty channel
    assert not attention.seen(0.0, exposure.arrival(0.0), p1)
    # with attention off every offered message is taken in and attended, and engagement stays
    p_off = params(quiet_config())
    assert attention.intake(0.8, p_off) == 1.0 and attention.taken_in(25.0, 1.0, 2.0, 0.8, p_off) == (25.0, 1.0, 2.0)
    assert attention.attend(0.8, 0.6, 2.0, p_off) == (False, 1.0, 0.8)


def test_literacy_and_identity_raise_capacity():
    cfg = quiet_config()
    cfg.attention.enabled = True
    cfg.attention.capacity, cfg.attention.literacy_effect, cfg.attention.identity_buffer = 10.0, 1.0, 0.5
    p = params(cfg)
    cap = [
        attention.capacity(attention.literacy_factor(lit, p), ident, p)
        for lit, ident in ((0.5, 0.0), (1.0, 0.0), (0.0, 0.0), (0.5, 1.0))
    ]
    assert cap == pytest.approx([10.0, 15.0, 5.0, 15.0])


# influence --------------------------------------------------------------------------------
def _influence_params(**changes):
    cfg = quiet_config()
    f = cfg.influence
    f.enabled = True
    f.acceptance, f.rejection, f.rate, f.critical_narrowing, f.identity_stability = 0.3, 0.6, 0.2, 0.5, 1.0
    cfg.stance.dominant = 1.0  # the broadcast's content
    return params(cfg)._replace(**changes)


def _new_stance(
    x,
    y_peer=0.0,
    peer=False,
    broadcast=False,
    critical=0.0,
    ident=0.0,
    y_forum=0.0,
    forum=False,
    loss=0.0,
    trust=1.0,
    **changes,
):
    """(stance, accepted, rejected peer, resisted broadcast) of one agent, by `influence.new_stance`."""
    p = _influence_params(**changes)
    return influence.new_stance(x, y_peer, ident, critical, trust, loss, y_forum, peer, broadcast, forum, p)


def test_assimilation_neutral_and_contrast():
    x, acc, rej, res = _new_stance(0.5, y_peer=0.6, peer=True)
    assert x == pytest.approx(0.52) and (acc, rej, res) == (1, False, False)  # assimilate: 0.5 + 0.2 (0.6 - 0.5)
    x, acc, rej, res = _new_stance(0.5, y_peer=0.0, peer=True)
    assert x == 0.5 and (acc, rej, res) == (0, False, False)  # d = 0.5: between U and T, no change
    x, acc, rej, res = _new_stance(0.2, y_peer=0.2, broadcast=True)  # the peer's message is not seen
    assert x == pytest.approx(0.2 - 0.2 * 0.8)  # broadcast at 1 is 0.8 away: contrast
    assert (acc, rej) == (0, False)  # the rejection was of the broadcast, not a peer
    assert res  # ... which the agent resisted


def test_contrast_is_clipped_and_peer_rejection_reported():
    x, acc, rej, res = _new_stance(0.05, y_peer=0.9, peer=True)
    assert x == 0.0 and (acc, rej, res) == (0, True, False)
    # without contrast the stance stays, but content beyond T still counts as rejected (for muting)
    assert influence.judge(0.05, 0.9, 0.3, _influence_params(contrast=False).rejection) == -1
    x, acc, rej, res = _new_stance(0.05, y_peer=0.9, peer=True, contrast=False)
    assert x == 0.05 and (acc, rej, res) == (0, True, False)


def test_critical_thinking_narrows_acceptance_of_the_broadcast_only():
    p = _influence_params()
    assert influence.broadcast_latitude(0.0, p) == pytest.approx(0.3)
    assert influence.broadcast_latitude(1.0, p) == pytest.approx(0.15)
    x, acc, _, res = _new_stance(0.8, broadcast=True, critical=0.0)
    assert x == pytest.approx(0.84) and acc == 1 and not res  # U = 0.3: accepted
    x, acc, _, res = _new_stance(0.8, broadcast=True, critical=1.0)
    assert x == pytest.approx(0.8) and acc == 0  # U_b = 0.3 (1 - 0.5) = 0.15 < 0.2: not accepted
    assert res  # seen and not accepted: resisted
    x, acc, _, res = _new_stance(0.8, y_peer=1.0, peer=True, critical=1.0)
    assert x == pytest.approx(0.84) and acc == 1  # the same content from a peer is still accepted
    assert not res  # no broadcast seen


def test_critical_mistrust_brings_rejection_of_the_broadcast_closer_only():
    p = _influence_params(mistrust=0.3)
    assert influence.broadcast_rejection(1.0, 1.0, p) == pytest.approx(0.6)  # full trust: T
    assert influence.broadcast_rejection(0.0, 0.0, p) == pytest.approx(0.6)  # no critical thinking: T
    assert influence.broadcast_rejection(1.0, 0.0, p) == pytest.approx(0.42)  # T (1 - 0.3)
    assert influence.broadcast_rejection(0.5, 0.5, p) == pytest.approx(0.6 * (1 - 0.3 * 0.25))
    # the broadcast 0.55 away: left alone by a trusting agent, rejected (and contrasted) by a mistrustful one
    x, acc, _, res = _new_stance(0.45, broadcast=True, critical=1.0, trust=1.0, mistrust=0.3)
    assert acc == 0 and res and x == pytest.approx(0.45)
    x, acc, _, res = _new_stance(0.45, broadcast=True, critical=1.0, trust=0.0, mistrust=0.3)
    assert x == pytest.approx(0.45 - 0.2 * 0.55) and acc == 0 and res
    # ... but not by an uncritical one, nor with mistrust 0
    x, *_ = _new_stance(0.45, broadcast=True, critical=0.0, trust=0.0, mistrust=0.3)
    assert x == pytest.approx(0.45)
    x, *_ = _new_stance(0.45, broadcast=True, critical=1.0, trust=0.0, mistrust=0.0)
    assert x == pytest.approx(0.45)
    # the same content from a peer is judged against T, whatever the agent's tech trust
    x, acc, rej, _ = _new_stance(0.45, y_peer=1.0, peer=True, critical=1.0, trust=0.0, mistrust=0.3)
    assert x == pytest.approx(0.45) and (acc, rej) == (0, False)


def test_identity_damps_stance_change_and_channels_add_up():
    assert influence.step_size(1.0, _influence_params()) == pytest.approx(0.1)  # mu = 0.2 / 2
    x, acc, rej, res = _new_stance(0.5, y_peer=0.6, peer=True, ident=1.0, y_forum=0.4, forum=True)
    assert x == pytest.approx(0.5 + 0.1 * 0.1 - 0.1 * 0.1)  # the pulls cancel
    assert (acc, rej, res) == (2, False, False)


# ties -------------------------------------------------------------------------------------
def _clique(stances, group=None):
    n = len(stances)
    return make_state(stances, [(a, b) for a in range(n) for b in range(a + 1, n)], group)


def _dissenters(st, conformity=0.3):
    return ties.dissenters_nb(st.stance, st.group, st.group_order, st.group_start, conformity).tolist()


def test_group_norm_is_the_median_and_dissenters_are_far_from_it():
    st = _clique([0.9, 0.9, 0.8, 0.1])
    assert ties.group_norms_nb(st.stance, st.group_order, st.group_start).tolist() == pytest.approx([0.85])
    assert _dissenters(st) == [False, False, False, True]
    assert ties.dissents(0.1, 0.85, 0.3) and not ties.dissents(0.8, 0.85, 0.3)


def _exclusion_config(rate, base):
    cfg = quiet_config()
    cfg.ties.exclusion, cfg.ties.exclusion_rate, cfg.ties.exclusion_base, cfg.ties.conformity = True, rate, base, 0.3
    cfg.ties.asocial_exclusion = True  # asociality counts: 1 - engagement (1 - share muted)
    return cfg


@both_steps
def test_exclusion_cuts_the_drawn_in_group_tie_of_a_dissenter(step):
    st = _clique([0.9, 0.9, 0.9, 0.1])
    assert _dissenters(st) == [False, False, False, True]
    # fully engaged, nothing muted: asociality 1 - 1 x (1 - 0) = 0, chance 0.2 x (0.5 + 0.5 x 0) = 0.1
    # u = 0.05 < 0.1: excluded; then u / 0.1 = 0.5 picks k = floor(0.5 x 3) = 1: the second in-group tie
    # (every agent draws 0.05, but only the dissenter is excluded)
    report = step(st, _exclusion_config(0.2, 0.5), make_draws(4, exclude=0.05))
    assert _events(report, "excluded") == ([3], [1])
    assert not tiestore.linked_nb(st.ties.indptr, st.ties.nbr, 3, 1)
    assert ties_of(st.ties, 3) == [0, 2]
    assert st.ledger["ties_lost"].tolist() == [0, 0, 0, 1]  # only the excluded dissenter counts a loss


@both_steps
def test_exclusion_spares_out_group_ties_and_non_dissenters(step):
    # 2 is half engaged (attention is off: its engagement stays 0.5): asociality 1 - 0.5 = 0.5
    st = make_state([0.9, 0.9, 0.1, 0.5], [(0, 2), (2, 3), (0, 1)], group=[0, 0, 0, 1], engagement=[1, 1, 0.5, 1])
    assert _dissenters(st) == [False, False, True, False]
    # chance 0.9 x (0.1 + 0.9 x 0.5) = 0.495; u = 0.49 < 0.495: excluded;
    # u / 0.495 = 0.9899 picks floor(0.9899 x 1) = 0: 2's only in-group tie
    assert ties.exclusion_chance(0.5, params(_exclusion_config(0.9, 0.1))) == pytest.approx(0.495)
    report = step(st, _exclusion_config(0.9, 0.1), make_draws(4, exclude=0.49))
    assert _events(report, "excluded") == ([2], [0])  # 2-3 crosses groups
    assert tiestore.linked_nb(st.ties.indptr, st.ties.nbr, 2, 3)
    assert st.ties.degree().tolist() == [1, 1, 1, 1]


@both_steps
def test_muting_after_repeated_rejection_and_cut_when_mutual(step):
    st = make_state([0.1, 0.9], [(0, 1)])  # 0.8 apart: beyond T = 0.6, each rejects the other's message
    slot0, slot1 = st.ties.indptr[0], st.ties.indptr[1]
    cfg = _peer_config()
    cfg.ties.muting, cfg.ties.mute_after = True, 2
    zero_hears = make_draws(2, peer=[0.0, BELOW_ONE], peer_pick=0.0)  # only 0 sees its peer's message
    one_hears = make_draws(2, peer=[BELOW_ONE, 0.0], peer_pick=0.0)
    report = step(st, cfg, zero_hears)
    assert _events(report, "muted") == ([], []) and st.ties.rejections[slot0] == 1
    assert st.stance.tolist() == pytest.approx([0.0, 0.9])  # contrast, clipped at 0
    report = step(st, cfg, zero_hears)
    assert _events(report, "muted") == ([0], [1]) and _events(report, "cut_mute") == ([], [])
    assert st.ties.muted[slot0] and not st.ties.muted[slot1]
    step(st, cfg, one_hears)
    assert st.ties.rejections[slot1] == 1
    report = step(st, cfg, one_hears)
    assert _events(report, "muted") == ([1], [0])
    assert _events(report, "cut_mute") == ([1], [0])  # muted from both ends: cut
    assert st.ties.degree().tolist() == [0, 0]
    assert st.ledger["ties_lost"].tolist() == [1, 1]  # both rejected it, both lose it


def _formation_config(rate, in_group):
    cfg = quiet_config()
    cfg.messages.forum = True  # E = 1, rate 2 x porosity 0.2: arrives with chance 1 - e^-0.4 at engagement 1
    cfg.influence.enabled = True  # forum content at one's own stance: accepted, the stance stays
    cfg.ties.formation, cfg.ties.formation_rate, cfg.ties.formation_in_group = True, rate, in_group
    cfg.influence.acceptance = 0.3
    return cfg


@both_steps
def test_formation_links_like_minded_engaged_agents_once(step):
    x = [0.5, 0.55, 0.9, 0.52]
    st = make_state(x, [], group=[0, 0, 0, 1])
    # everyone accepts a forum message; u < 0.5 proposes, then v = u / 0.5 < 0.5 stays in the group and
    # v / 0.5 picks the member: 0 -> floor(0.4 x 3) = member 1; 1 -> member 0 (same pair); 2 -> 0 (too far);
    # agent 3 (u = 0.9) does not propose
    draws = make_draws(4, forum=0.0, form=[0.1, 0.0, 0.0, 0.9], forum_content=x)
    report = step(st, _formation_config(0.5, 0.5), draws)
    assert report.n_accepted.tolist() == [1, 1, 1, 1] and st.stance.tolist() == x
    assert _events(report, "formed") == ([0], [1])
    assert st.ties.degree().tolist() == [1, 1, 0, 0]
    assert st.ledger["ties_gained"].tolist() == [1, 1, 0, 0]


@both_steps
def test_formation_anywhere_and_withdrawn_targets_refuse(step):
    st = make_state([0.5, 0.5, 0.5], [], group=[0, 0, 1], engagement=[1.0, 0.1, 1.0])  # 1 is withdrawn
    cfg = _formation_config(1.0, 0.0)
    # only 0 accepts a message (so only 0 may propose); anywhere: floor(0.99 x 3) = 2, in the other group
    report = step(st, cfg, make_draws(3, forum=[0.0, BELOW_ONE, BELOW_ONE], form=0.99, forum_content=0.5))
    assert st.withdrawn.tolist() == [False, True, False]
    assert _events(report, "formed") == ([0], [2])
    # now only 2 proposes: floor(0.5 x 3) = 1, who is withdrawn
    report = step(st, cfg, make_draws(3, forum=[BELOW_ONE, BELOW_ONE, 0.0], form=0.5, forum_content=0.5))
    assert int(report.n_accepted[2]) == 1
    assert _events(report, "formed") == ([], [])
    assert st.ties.degree().tolist() == [1, 0, 1]


def _rewiring_config():
    cfg = quiet_config()
    cfg.ties.rewiring, cfg.ties.rewire_rate, cfg.ties.conformity, cfg.ties.homophily = True, 1.0, 0.3, 0.15
    return cfg


@both_steps
def test_rewiring_moves_the_most_disagreeing_tie_to_a_like_minded_outsider(step):
    # group 0: 0 (dissenter at 0.1), 1 and 2 at 0.9; group 1: 3 at 0.15, 4 at 0.9
    st = make_state([0.1, 0.9, 0.95, 0.15, 0.9], [(0, 1), (0, 2), (1, 2)], group=[0, 0, 0, 1, 1])
    st.in_group_degree0[0] = 4  # 0 had 4 in-group ties and has 2 left: it lost 1 - 2 / 4 = 0.5 of them
    assert _dissenters(st)[:3] == [True, False, False]
    # only 0 tries (u = 0.05 < 1.0 x 0.5); outsiders are [3, 4]: floor(0.05 / 0.5 x 2) = 0 -> 3 (0.05 < 0.15)
    report = step(st, _rewiring_config(), make_draws(5, rewire=[0.05, BELOW_ONE, BELOW_ONE, BELOW_ONE, BELOW_ONE]))
    assert _events(report, "cut_rewire") == ([0], [2])  # 0.95 is the most distant neighbour (0.85 > 0.15)
    assert _events(report, "rewired") == ([0], [3])
    assert sorted(ties_of(st.ties, 0)) == [1, 3]
    assert st.ledger["ties_lost"].tolist() == [0, 0, 1, 0, 0]  # the dropped neighbour loses the tie
    assert st.ledger["ties_gained"].tolist() == [1, 0, 0, 1, 0]


@both_steps
def test_rewiring_needs_a_like_minded_candidate(step):
    st = make_state([0.1, 0.9, 0.95, 0.9], [(0, 1), (1, 2)], group=[0, 0, 0, 1])
    st.in_group_degree0[0] = 2  # 0 lost half its in-group ties: it tries with chance 0.5 > u = 0
    assert _dissenters(st) == [True, False, False, False]
    report = step(st, _rewiring_config(), make_draws(4, rewire=0.0))
    assert _events(report, "cut_rewire") == ([], []) and _events(report, "rewired") == ([], [])
    assert st.ties.degree().tolist() == [1, 2, 1, 0]  # the only outsider (0.9) is 0.8 > 0.15 away


# identity ---------------------------------------------------------------------------------
def _identity_params(gain, decay):
    cfg = quiet_config()
    cfg.identity.enabled, cfg.identity.gain, cfg.identity.decay = True, gain, decay
    cfg.attention.literacy_effect = 1.0
    return params(cfg)


def test_identity_gain_and_decay():
    p = _identity_params(0.1, 0.1)
    gained = [identity.gains(n_accepted, False, False, p) for n_accepted in (1, 0, 2)]
    assert gained == [True, False, True]
    new = [
        identity.next_identity(0.5, g, attention.literacy_factor(lit, p), p)
        for g, lit in zip(gained, (0.5, 0.5, 1.0), strict=True)
    ]
    assert new == pytest.approx([0.55 * 0.9, 0.5 * 0.9, (0.5 + 0.15 * 0.5) * 0.9])


def test_no_identity_gain_when_overloaded_or_withdrawn():
    p = _identity_params(0.1, 0.0)
    assert identity.gains(1, False, False, p)
    assert not identity.gains(1, False, True, p)  # overloaded
    assert not identity.gains(1, True, False, p)  # withdrawn
    lit = attention.literacy_factor(0.5, p)
    assert identity.next_identity(0.5, False, lit, p) == 0.5


@both_steps
def test_ledger_counts_transitions_not_states(step):
    # 0 becomes overloaded; 1 stays overloaded and withdraws; 2 stays withdrawn; 3 gains identity clarity.
    # (An overloaded or withdrawn agent never gains clarity, so the gain is a fourth agent's.)
    st = make_state(
        [0.9] * 4, [], literacy=[0.5, 0.1, 1.0, 1.0], engagement=[1.0, 0.24, 0.1, 1.0], trust=[1.0, 1.0, 0.1, 1.0]
    )
    st.overloaded[1] = True
    st.withdrawn[2] = True
    cfg = quiet_config()
    cfg.messages.broadcast, cfg.messages.broadcast_rate = True, 3.0  # E = 1: 3 messages offered to each
    a = cfg.attention
    a.enabled = True
    a.capacity, a.literacy_effect, a.identity_buffer, a.withdrawal_rate, a.recovery_rate = 2.0, 2.0, 0.5, 0.2, 0.05
    a.withdrawn_below, a.trust_dynamics, a.trust_rate = 0.2, True, 0.02
    cfg.influence.enabled = True  # the broadcast (1.0) is 0.1 from 0.9: accepted by whoever sees it
    cfg.identity.enabled, cfg.identity.gain, cfg.identity.decay = True, 0.1, 0.0
    draws = make_draws(4, broadcast=0.0)  # everyone sees the broadcast
    # capacity 2 x (1 + 2 (literacy - 0.5)): 2, 0.4, 4, 4; load = 3 x engagement / capacity
    # 0: 3 / 2 = 1.5, engagement 1 x (1 - 0.2) = 0.8; 1: 0.72 / 0.4 = 1.8, 0.24 x 0.8 = 0.192 < 0.2
    # 2: 0.3 / 4 = 0.075, engagement 0.1 + 0.05 (0.1 - 0.1) = 0.1 (still withdrawn); 3: 3 / 4 = 0.75
    step(st, cfg, draws)
    assert np.asarray(st.load, dtype=float).tolist() == pytest.approx([1.5, 1.8, 0.075, 0.75], rel=1e-6)
    assert np.asarray(st.engagement, dtype=float).tolist() == pytest.approx([0.8, 0.192, 0.1, 1.0], rel=1e-6)
    assert st.overloaded.tolist() == [True, True, False, False]
    assert st.withdrawn.tolist() == [False, True, True, False]
    assert st.ledger["overload_episodes"].tolist() == [1, 0, 0, 0]
    assert st.ledger["withdrawals"].tolist() == [0, 1, 0, 0]
    assert st.ledger["identity_gains"].tolist() == [0, 0, 0, 1]
    assert np.asarray(st.identity, dtype=float).tolist() == pytest.approx([0.0, 0.0, 0.0, 0.2])  # 0.1 x 2
    # the same states again, no new episode, another gain: 0 at load 0.8 x 1.5 = 1.2, 1 at 0.192 x 7.5 = 1.44,
    # 2 at engagement 0.1 + 0.05 (0.118 - 0.1) = 0.1009 (its trust rose to 0.1 + 0.02 x 0.9 after its accepted message)
    step(st, cfg, draws)
    assert np.asarray(st.load, dtype=float).tolist()[:2] == pytest.approx([1.2, 1.44], rel=1e-6)
    assert float(st.engagement[2]) == pytest.approx(0.1009, rel=1e-6)
    assert st.overloaded.tolist() == [True, True, False, False]
    assert st.withdrawn.tolist() == [False, True, True, False]
    assert st.ledger["overload_episodes"].tolist() == [1, 0, 0, 0]
    assert st.ledger["withdrawals"].tolist() == [0, 1, 0, 0]
    assert st.ledger["identity_gains"].tolist() == [0, 0, 0, 2]


def _reach(msg: MessagesConfig, e_t: float, engagement=None, attention: bool = True):
    """The chance a forum message reaches an agent, for a config with these messages settings.

    One chance, or one per agent given the engagement with attention on.
    """
    cfg = Config()
    cfg.messages = msg
    cfg.attention.enabled = attention
    return exposure.forum_reach(e_t, params(cfg), engagement)


# draws ------------------------------------------------------------------------------------
@pytest.mark.parametrize("e_t", [0.0, 1.0, 3.0, 40.0])
def test_forum_content_is_drawn_for_every_agent_a_forum_message_can_reach(e_t):
    from sim.core.draws import draw

    msg = MessagesConfig(forum_rate=2.0, porosity=0.2)
    d = draw(np.random.default_rng(1), 5000, msg, np.random.default_rng(2), forum_reach=_reach(msg, e_t))
    reach = d.forum < -np.expm1(-msg.forum_rate * msg.porosity * e_t)  # attention and the cap only lower it
    assert np.isfinite(d.forum_content[reach]).all()
    assert np.isnan(d.forum_content[~reach]).sum() >= (~reach).sum() - 2  # the rest are not drawn (bar the margin)
    full = draw(np.random.default_rng(1), 5000, msg, np.random.default_rng(2))
    assert np.isfinite(full.forum_content).all() and np.array_equal(full.forum, d.forum)
    # with attention on, an agent takes in a share of the volume equal to its engagement (stored as float32):
    # a message reaches it with chance 1 - exp(-volume x engagement), one chance per agent
    engagement = np.random.default_rng(3).random(5000).astype(np.float32)
    per_agent = _reach(msg, e_t, engagement)
    assert isinstance(per_agent, np.ndarray) and per_agent.shape == (5000,)
    few = draw(np.random.default_rng(1), 5000, msg, np.random.default_rng(2), forum_reach=per_agent)
    may = few.forum < -np.expm1(-msg.forum_rate * msg.porosity * e_t * engagement.astype(np.float64))
    assert np.isfinite(few.forum_content[may]).all()
    assert np.isnan(few.forum_content[~may]).sum() >= (~may).sum() - 2
    assert 0 < may.sum() < reach.sum() or e_t == 0.0
    # with attention off every offered message is taken in: one chance for all, whatever the engagement
    assert _reach(msg, e_t, engagement, attention=False) == _reach(msg, e_t)


def test_draw_source_in_one_chunk_is_one_stream_and_chunks_are_thread_independent():
    import numba

    from sim.core.draws import UNIFORMS, DrawSource, draw

    msg = MessagesConfig(forum_rate=2.0, porosity=0.2)

    def source_draws(n, chunk, threads, steps=2):
        before = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            src = DrawSource(np.random.default_rng(7), n, np.random.default_rng(8), chunk=chunk)
            out = []
            for _ in range(steps):  # the buffers are reused: copy what a step drew
                d = src.draw(msg, _reach(msg, 1.0))
                out.append((np.stack([d.u[k] for k in UNIFORMS]).copy(), d.forum_content.copy()))
            return out
        finally:
            numba.set_num_threads(before)

    # up to one chunk: exactly `draw` on the model's generators, step after step
    one = source_draws(3000, 4096, 2)
    rng, content = np.random.default_rng(7), np.random.default_rng(8)
    for u, forum in one:
        d = draw(rng, 3000, msg, content, forum_reach=_reach(msg, 1.0))
        assert np.array_equal(u, np.stack([d.u[k] for k in UNIFORMS]))
        assert np.array_equal(forum, d.forum_content, equal_nan=True)
    # several chunks: the same numbers whatever the number of threads, and a new stream per chunk
    serial, parallel = source_draws(10_000, 1024, 1), source_draws(10_000, 1024, numba.config.NUMBA_NUM_THREADS)
    for (u1, f1), (u2, f2) in zip(serial, parallel, strict=True):
        assert np.array_equal(u1, u2) and np.array_equal(f1, f2, equal_nan=True)
    u = serial[0][0]
    head = np.random.default_rng(7)
    assert np.array_equal(u[:, :1024], np.stack([head.random(1024) for _ in UNIFORMS]))  # chunk 0: the model's stream
    assert not np.array_equal(u[:, 1024:2048], u[:, :1024])
    assert 0.49 < u.mean() < 0.51 and not np.array_equal(serial[0][0], serial[1][0])


def test_a_reused_uniform_is_uniform_and_independent_of_its_event():
    from scipy import stats

    from sim.core.draws import BELOW_ONE
    from sim.core.draws import given as given_one
    from sim.core.draws import split as split_one

    given, split = np.vectorize(given_one), np.vectorize(split_one)  # the scalar rules, over arrays
    u = np.random.default_rng(5).random(400_000)
    for p in (0.003, 0.2, 0.9):
        w = given(u, p)[u < p]
        assert np.all((w >= 0) & (w < 1))
        assert stats.kstest(w, "uniform").pvalue > 1e-3
    inside, w = split(given(u, 0.5)[u < 0.5], 0.3)
    for part in (w[inside], w[~inside]):
        assert np.all(part < 1) and stats.kstest(part, "uniform").pvalue > 1e-3
    assert 0.27 < inside.mean() < 0.33
    v = np.array([BELOW_ONE, 0.1])  # the largest uniform stays below 1 in the upper part
    assert np.all(split(v, 1e-300)[1] < 1) and np.all(given(np.array([np.nextafter(0.3, 0)]), 0.3) < 1)


def test_reach_in_the_draw_sources_own_buffer_gives_the_same_draws():
    """The model writes the per-agent reach into `reach_buffer` (the forum content's array): same draws as a copy."""
    import numba

    from sim.core.draws import UNIFORMS, DrawSource

    msg = MessagesConfig(forum_rate=2.0, porosity=0.2)
    engagement = np.random.default_rng(3).random(10_000).astype(np.float32)
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        before = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            apart = DrawSource(np.random.default_rng(7), 10_000, np.random.default_rng(8), chunk=1024)
            inside = DrawSource(np.random.default_rng(7), 10_000, np.random.default_rng(8), chunk=1024)
            for e_t in (1.0, 3.0):
                a = apart.draw(msg, _reach(msg, e_t, engagement).copy())
                cfg = Config()
                cfg.messages = msg
                reach = exposure.forum_reach(e_t, params(cfg), engagement, inside.reach_buffer())
                assert reach is inside.reach_buffer()
                b = inside.draw(msg, reach)
                assert all(np.array_equal(a.u[k], b.u[k]) for k in UNIFORMS)
                assert np.array_equal(a.forum_content, b.forum_content, equal_nan=True)
                assert np.isfinite(b.forum_content).any() and np.isnan(b.forum_content).any()
        finally:
            numba.set_num_threads(before)
