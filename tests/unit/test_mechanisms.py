"""One hand-computed case (or a few) per submodel."""

import math

import numpy as np
import pytest

from sim.core import tiestore
from sim.config.params import (
    AttentionConfig,
    ExposureConfig,
    IdentityConfig,
    InfluenceConfig,
    MessagesConfig,
    TiesConfig,
)
from sim.step import attention, exposure, identity, influence, ties
from tests.conftest import make_state


# exposure ---------------------------------------------------------------------------------
def test_constant_exposure_is_the_baseline():
    assert exposure.level(500, ExposureConfig(kind="constant", baseline=1.5)) == 1.5


def test_shock_schedule_before_during_after():
    cfg = ExposureConfig(kind="shock", baseline=1.0, start=10, length=5, height=2.0, persistence=0.25)
    assert [exposure.level(t, cfg) for t in (9, 10, 14, 15, 100)] == [1.0, 3.0, 3.0, 1.5, 1.5]
    cfg.relaxation = 10.0
    assert exposure.level(25, cfg) == pytest.approx(1.0 + 0.5 * math.exp(-1.0))


def test_peer_volume_and_engagement_weighted_sender():
    st = make_state([0.5, 0.5, 0.5], [(0, 1), (0, 2)], engagement=[1.0, 0.25, 0.75])
    w = exposure.sender_weights(st)
    total = st.ties.block_sum(w)
    assert total[0] == exposure.QUANTUM  # 0.25 + 0.75
    v_peer, v_b, v_f = exposure.volumes(st, total, 2.0, MessagesConfig(peer_rate=0.5, broadcast_rate=3.0,
                                                                        forum_rate=4.0, porosity=0.5))
    assert v_peer.tolist() == [1.0, 1.0, 1.0]  # 0.5 per tie x E=2 x sender engagement (1 for agent 0)
    assert v_b.tolist() == [6.0] * 3 and v_f.tolist() == [4.0] * 3
    slot = exposure.pick_senders(st, w, total, np.array([0.2, 0.0, 0.0]))
    assert st.ties.nbr[slot[0]] == 1  # 0.2 falls in sender 1's quarter
    slot = exposure.pick_senders(st, w, total, np.array([0.3, 0.0, 0.0]))
    assert st.ties.nbr[slot[0]] == 2


def test_cap_scales_every_channel_alike_and_only_above_the_cap():
    st = make_state([0.5, 0.5, 0.5], [(0, 1), (0, 2)], engagement=[1.0, 0.25, 0.75])
    total = st.ties.block_sum(exposure.sender_weights(st))
    msg = MessagesConfig(peer_rate=0.5, broadcast_rate=3.0, forum_rate=4.0, porosity=0.5, cap=5.5)
    v_peer, v_b, v_f = exposure.volumes(st, total, 2.0, msg)  # uncapped: 1 + 6 + 4 = 11 each
    assert (v_peer + v_b + v_f).tolist() == pytest.approx([5.5] * 3)
    assert v_b.tolist() == pytest.approx([3.0] * 3) and v_f.tolist() == pytest.approx([2.0] * 3)
    msg.cap = 20.0  # above the volume: nothing changes
    assert [v.tolist() for v in exposure.volumes(st, total, 2.0, msg)] == [[1.0] * 3, [6.0] * 3, [4.0] * 3]
    assert exposure.capped(1.0, 6.0, 4.0, 5.5) == pytest.approx((0.5, 3.0, 2.0))
    assert exposure.capped(1.0, 6.0, 4.0, 0.0) == (1.0, 6.0, 4.0)  # 0: no cap


def test_muted_and_cut_ties_send_nothing():
    st = make_state([0.5, 0.5, 0.5], [(0, 1), (0, 2)])
    s2 = st.ties.indptr[0] + 1
    assert st.ties.nbr[s2] == 2
    st.ties.muted[s2] = True
    w = exposure.sender_weights(st)
    total = st.ties.block_sum(w)
    for u in (0.0, 0.5, 0.999):
        assert st.ties.nbr[exposure.pick_senders(st, w, total, np.array([u, 0, 0]))[0]] == 1
    tiestore.cut(st.ties, np.array([st.ties.indptr[0]]))
    w = exposure.sender_weights(st)
    total = st.ties.block_sum(w)
    assert exposure.pick_senders(st, w, total, np.zeros(3))[0] == -1


# attention --------------------------------------------------------------------------------
def test_overload_halves_attention_and_withdraws():
    cfg = AttentionConfig(capacity=10.0, literacy_effect=1.0, identity_buffer=0.0, withdrawal_rate=0.2,
                          recovery_rate=0.05)
    one = np.ones(2)
    load, over, att_p, att_b, att_f, e = attention.attend(
        engagement=np.array([0.8, 0.8]), trust=np.array([0.6, 0.6]), literacy=np.array([0.5, 0.5]),
        identity=np.zeros(2), v_peer=np.array([20.0, 5.0]), v_broadcast=np.zeros(2), v_forum=np.zeros(2),
        u_peer=np.array([0.39, 0.39]), u_broadcast=one, u_forum=one, cfg=cfg)
    assert load.tolist() == [2.0, 0.5]
    assert over.tolist() == [True, False]
    assert e[0] == pytest.approx(0.8 * (1 - 0.2))  # full overload (load - 1 >= 1)
    assert e[1] == pytest.approx(0.8 + 0.05 * (0.6 - 0.8))  # recovers toward trust
    # attends with prob (1 - e^-v) * e / max(load, 1): 0.4 for agent 0, about 0.79 for agent 1
    assert att_p.tolist() == [True, True]
    assert not att_b.any() and not att_f.any()  # nothing arrives on empty channels


def test_literacy_and_identity_raise_capacity():
    cfg = AttentionConfig(capacity=10.0, literacy_effect=1.0, identity_buffer=0.5)
    cap = attention.capacity(np.array([0.5, 1.0, 0.0, 0.5]), np.array([0.0, 0.0, 0.0, 1.0]), cfg)
    assert cap.tolist() == pytest.approx([10.0, 15.0, 5.0, 15.0])


# influence --------------------------------------------------------------------------------
def _influence(x, y_peer, att_peer, att_b, critical=None, ident=None, cfg=None, y_forum=None, att_f=None):
    n = len(x)
    cfg = cfg or InfluenceConfig(acceptance=0.3, rejection=0.6, rate=0.2, critical_narrowing=0.5,
                                 identity_stability=1.0)
    return influence.influence(
        np.array(x), np.zeros(n) if ident is None else np.array(ident),
        np.zeros(n) if critical is None else np.array(critical), np.array(y_peer), np.array(att_peer),
        np.array(att_b), 1.0, np.zeros(n) if y_forum is None else np.array(y_forum),
        np.zeros(n, bool) if att_f is None else np.array(att_f), cfg)


def test_assimilation_neutral_and_contrast():
    x, acc, rej = _influence([0.5, 0.5, 0.2], [0.6, 0.0, 0.2], [True, True, False], [False, False, True])
    assert x[0] == pytest.approx(0.52)  # assimilate: 0.5 + 0.2 (0.6 - 0.5)
    assert x[1] == pytest.approx(0.5)  # d = 0.5: between U and T, no change
    assert x[2] == pytest.approx(0.2 - 0.2 * 0.8)  # broadcast at 1 is 0.8 away: contrast
    assert acc.tolist() == [1, 0, 0]
    assert rej.tolist() == [False, False, False]  # the rejection was of the broadcast, not a peer


def test_contrast_is_clipped_and_peer_rejection_reported():
    x, _, rej = _influence([0.05], [0.9], [True], [False])
    assert x[0] == 0.0 and rej.tolist() == [True]


def test_critical_thinking_narrows_acceptance_of_the_broadcast_only():
    x, acc, _ = _influence([0.8, 0.8, 0.8], [0.0, 0.0, 1.0], [False, False, True], [True, True, False],
                           critical=[0.0, 1.0, 1.0])
    assert x[0] == pytest.approx(0.84)  # U = 0.3: accepted
    assert x[1] == pytest.approx(0.8)  # U_b = 0.3 (1 - 0.5) = 0.15 < 0.2: not accepted
    assert x[2] == pytest.approx(0.84)  # the same content from a peer is still accepted
    assert acc.tolist() == [1, 0, 1]


def test_identity_damps_stance_change_and_channels_add_up():
    x, acc, _ = _influence([0.5], [0.6], [True], [False], ident=[1.0], y_forum=[0.4], att_f=[True])
    assert x[0] == pytest.approx(0.5 + 0.1 * 0.1 - 0.1 * 0.1)  # mu = 0.2 / 2; pulls cancel
    assert acc.tolist() == [2]


# ties -------------------------------------------------------------------------------------
def _clique(stances, group=None):
    n = len(stances)
    return make_state(stances, [(a, b) for a in range(n) for b in range(a + 1, n)], group)


def test_group_norm_is_the_median_and_dissenters_are_far_from_it():
    st = _clique([0.9, 0.9, 0.8, 0.1])
    assert ties.group_norms(st, st.stance).tolist() == pytest.approx([0.85])
    assert ties.dissenters(st, st.stance, 0.3).tolist() == [False, False, False, True]


def test_exclusion_cuts_the_drawn_in_group_tie_of_a_dissenter():
    st = _clique([0.9, 0.9, 0.9, 0.1])
    dissent = ties.dissenters(st, st.stance, 0.3)
    u = np.array([0.0, 0.0, 0.0, 0.0])
    src, dst = ties.exclude(st, dissent, u, np.full(4, 0.5), TiesConfig(exclusion_rate=0.1))
    assert (src.tolist(), dst.tolist()) == ([3], [1])  # k = floor(0.5 x 3) = 1: the second in-group tie
    assert not tiestore.linked(st.ties, np.array([3]), np.array([1]))[0]
    assert st.ledger["ties_lost"].tolist() == [0, 0, 0, 1]  # only the excluded dissenter counts a loss


def test_exclusion_spares_out_group_ties_and_non_dissenters():
    st = make_state([0.9, 0.9, 0.1, 0.5], [(0, 2), (2, 3), (0, 1)], group=[0, 0, 0, 1])
    dissent = ties.dissenters(st, st.stance, 0.3)
    assert dissent.tolist() == [False, False, True, False]
    src, dst = ties.exclude(st, dissent, np.zeros(4), np.full(4, 0.99), TiesConfig(exclusion_rate=0.5))
    assert (src.tolist(), dst.tolist()) == ([2], [0])  # 2's only in-group tie; 2-3 crosses groups
    assert tiestore.linked(st.ties, np.array([2]), np.array([3]))[0]


def test_muting_after_repeated_rejection_and_cut_when_mutual():
    st = make_state([0.1, 0.9], [(0, 1)])
    slot0, slot1 = st.ties.indptr[0], st.ties.indptr[1]
    cfg = TiesConfig(mute_after=2)
    sender = np.array([1, 0])  # the sending agents
    muted, cut = ties.mute(st, sender, np.array([True, False]), cfg)
    assert muted[0].tolist() == [] and st.ties.rejections[slot0] == 1
    muted, cut = ties.mute(st, sender, np.array([True, False]), cfg)
    assert (muted[0].tolist(), muted[1].tolist()) == ([0], [1]) and cut[0].tolist() == []
    assert st.ties.muted[slot0] and not st.ties.muted[slot1]
    ties.mute(st, sender, np.array([False, True]), cfg)
    muted, cut = ties.mute(st, sender, np.array([False, True]), cfg)
    assert (cut[0].tolist(), cut[1].tolist()) == ([1], [0])  # muted from both ends: cut
    assert st.ties.degree().tolist() == [0, 0]


def test_formation_links_like_minded_engaged_agents_once():
    st = make_state([0.5, 0.55, 0.9, 0.52], [], group=[0, 0, 0, 1])
    cfg = TiesConfig(formation_rate=0.5, formation_in_group=0.5)
    eligible = np.array([True, True, True, True])
    u = np.array([0.0, 0.0, 0.0, 0.9])  # agent 3 does not propose
    scope = np.array([0.0, 0.0, 0.0, 0.0])  # in-group proposals
    pick = np.array([0.4, 0.0, 0.0, 0.0])  # 0 -> member 1; 1 -> member 0 (same pair); 2 -> 0 (too far)
    a, b = ties.form(st, st.stance, eligible, u, scope, pick, cfg, InfluenceConfig(acceptance=0.3))
    assert (a.tolist(), b.tolist()) == ([0], [1])
    assert st.ties.degree().tolist() == [1, 1, 0, 0]
    assert st.ledger["ties_gained"].tolist() == [1, 1, 0, 0]


def test_formation_anywhere_and_withdrawn_targets_refuse():
    st = make_state([0.5, 0.5, 0.5], [], group=[0, 0, 1])
    st.withdrawn[1] = True
    cfg = TiesConfig(formation_rate=1.0, formation_in_group=0.0)
    a, b = ties.form(st, st.stance, np.array([True, False, False]), np.zeros(3), np.full(3, 0.5),
                     np.array([0.99, 0, 0]), cfg, InfluenceConfig(acceptance=0.3))
    assert (a.tolist(), b.tolist()) == ([0], [2])  # floor(0.99 x 3) = 2, in the other group
    a, b = ties.form(st, st.stance, np.array([False, False, True]), np.zeros(3), np.full(3, 0.5),
                     np.array([0.5, 0, 0]), cfg, InfluenceConfig(acceptance=0.3))
    assert a.tolist() == []  # 2 proposes 1, who is withdrawn


def test_rewiring_moves_the_most_disagreeing_tie_to_a_like_minded_outsider():
    # group 0: 0 (dissenter at 0.1), 1 and 2 at 0.9; group 1: 3 at 0.15, 4 at 0.9
    st = make_state([0.1, 0.9, 0.95, 0.15, 0.9], [(0, 1), (0, 2), (1, 2)], group=[0, 0, 0, 1, 1])
    dissent = ties.dissenters(st, st.stance, 0.3)
    assert dissent.tolist()[:3] == [True, False, False]
    cut, new = ties.rewire(st, st.stance, dissent, np.array([0.0, 1, 1, 1, 1]), np.array([0.1, 0, 0, 0, 0]),
                           TiesConfig(rewire_rate=0.5), InfluenceConfig(acceptance=0.3))
    assert (cut[0].tolist(), cut[1].tolist()) == ([0], [2])  # 0.95 is the most distant neighbour
    assert (new[0].tolist(), new[1].tolist()) == ([0], [3])  # outsiders are [3, 4]; floor(0.1 x 2) = 0
    assert sorted(st.ties.nbr[st.ties.indptr[0]:st.ties.indptr[1]].tolist())[-2:] == [1, 3]


def test_rewiring_needs_a_like_minded_candidate():
    st = make_state([0.1, 0.9, 0.95, 0.9], [(0, 1), (1, 2)], group=[0, 0, 0, 1])
    dissent = ties.dissenters(st, st.stance, 0.3)
    cut, new = ties.rewire(st, st.stance, dissent, np.zeros(4), np.zeros(4), TiesConfig(rewire_rate=0.5),
                           InfluenceConfig(acceptance=0.3))
    assert cut[0].tolist() == [] and new[0].tolist() == []  # the only outsider (0.9) is too far


# identity ---------------------------------------------------------------------------------
def test_identity_gain_and_decay():
    new, gained = identity.update_identity(
        np.array([0.5, 0.5, 0.5]), np.array([0.5, 0.5, 1.0]), np.array([1, 0, 2]),
        np.array([False, False, False]), np.array([False, False, False]),
        IdentityConfig(gain=0.1, decay=0.1), AttentionConfig(literacy_effect=1.0))
    assert new.tolist() == pytest.approx([0.55 * 0.9, 0.5 * 0.9, (0.5 + 0.15 * 0.5) * 0.9])
    assert gained.tolist() == [True, False, True]


def test_no_identity_gain_when_overloaded_or_withdrawn():
    new, gained = identity.update_identity(
        np.array([0.5, 0.5]), np.array([0.5, 0.5]), np.array([1, 1]), np.array([True, False]),
        np.array([False, True]), IdentityConfig(gain=0.1, decay=0.0), AttentionConfig())
    assert new.tolist() == [0.5, 0.5] and not gained.any()


def test_ledger_counts_transitions_not_states():
    ledger = {k: np.zeros(3, dtype=np.uint32) for k in ("identity_gains", "overload_episodes", "withdrawals")}
    identity.count_transitions(ledger, np.array([True, False, False]), np.array([True, True, False]),
                               np.array([False, True, False]), np.array([False, True, True]),
                               np.array([False, False, True]))
    assert ledger["overload_episodes"].tolist() == [1, 0, 0]
    assert ledger["withdrawals"].tolist() == [0, 1, 0]
    assert ledger["identity_gains"].tolist() == [1, 0, 0]


# draws ------------------------------------------------------------------------------------
@pytest.mark.parametrize("e_t", [0.0, 1.0, 3.0, 40.0])
def test_forum_content_is_drawn_for_every_agent_a_forum_message_can_reach(e_t):
    from sim.core.draws import draw

    msg = MessagesConfig(forum_rate=2.0, porosity=0.2)
    d = draw(np.random.default_rng(1), 5000, msg, np.random.default_rng(2), e_t=e_t)
    reach = d.forum < -np.expm1(-msg.forum_rate * msg.porosity * e_t)  # attention and the cap only lower it
    assert np.isfinite(d.forum_content[reach]).all()
    assert np.isnan(d.forum_content[~reach]).sum() >= (~reach).sum() - 2  # the rest are not drawn (bar the margin)
    full = draw(np.random.default_rng(1), 5000, msg, np.random.default_rng(2))
    assert np.isfinite(full.forum_content).all() and np.array_equal(full.forum, d.forum)
    # given the engagement (attention on), only those who may attend: u < reach * engagement
    engagement = np.random.default_rng(3).random(5000).astype(np.float32)
    few = draw(np.random.default_rng(1), 5000, msg, np.random.default_rng(2), e_t=e_t, engagement=engagement)
    may = few.forum < -np.expm1(-msg.forum_rate * msg.porosity * e_t) * engagement.astype(np.float64)
    assert np.isfinite(few.forum_content[may]).all()
    assert np.isnan(few.forum_content[~may]).sum() >= (~may).sum() - 2
    assert 0 < may.sum() < reach.sum() or e_t == 0.0


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
                d = src.draw(msg, e_t=1.0)
                out.append((np.stack([d.u[k] for k in UNIFORMS]).copy(), d.forum_content.copy()))
            return out
        finally:
            numba.set_num_threads(before)

    # up to one chunk: exactly `draw` on the model's generators, step after step
    one = source_draws(3000, 4096, 2)
    rng, content = np.random.default_rng(7), np.random.default_rng(8)
    for u, forum in one:
        d = draw(rng, 3000, msg, content, e_t=1.0)
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

    from sim.core.draws import BELOW_ONE, given, split

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
