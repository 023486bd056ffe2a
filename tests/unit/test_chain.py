"""Hand-computed cases for the chain of the full model (ODD 4): intake, trust, attribution, exclusion, rewiring.

Each rule is checked once as its scalar function (`sim.step.attention`, `influence`, `ties`), with the
parameter record of a quiet config that switches on only what it needs, and once in a step of both the
per-agent reference and the compiled step on a hand-made state, with uniforms chosen to force the outcome.
The expectations are the rules' arithmetic, written out. A few invariants are checked with hypothesis.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config.params import MetricsConfig
from sim.core.draws import BELOW_ONE
from sim.metrics.population import indicators
from sim.step import attention, influence, ties
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


def _floats(a):
    return np.asarray(a, dtype=float).tolist()


def _attention_config(broadcast_rate=0.0, capacity=2.5, withdrawal=0.2, recovery=0.05, trust_rate=0.0):
    """Attention on, the broadcast the only channel (E = 1: `broadcast_rate` messages offered to everyone).

    Trust dynamics are on only with a trust rate above 0; literacy has its default effect (1), identity none.
    """
    cfg = quiet_config()
    cfg.messages.broadcast, cfg.messages.broadcast_rate = broadcast_rate > 0, broadcast_rate
    a = cfg.attention
    a.enabled, a.capacity, a.literacy_effect, a.identity_buffer = True, capacity, 1.0, 0.0
    a.withdrawal_rate, a.recovery_rate, a.withdrawn_below = withdrawal, recovery, 0.2
    a.trust_dynamics, a.trust_rate = trust_rate > 0, trust_rate
    return cfg


def _judging(cfg):
    """Influence on: U = 0.3, T = 0.6, rate 0.2, no hardening; the broadcast's content is 1."""
    f = cfg.influence
    f.enabled, f.acceptance, f.rejection, f.rate, f.hardening, f.contrast = True, 0.3, 0.6, 0.2, 0.0, True
    cfg.stance.dominant = 1.0
    return cfg


# intake: withdrawing lowers load -----------------------------------------------------------------------
def test_intake_is_the_engagement_share_so_withdrawing_lowers_load():
    p = params(_attention_config())
    # offered 1 + 2 + 2 = 5 messages, capacity 2.5 (literacy 0.5, identity 0): load = 5 x engagement / 2.5
    loads = [attention.load(*attention.taken_in(1.0, 2.0, 2.0, e, p), 2.5) for e in (1.0, 0.5, 0.25, 0.0)]
    assert loads == [2.0, 1.0, 0.5, 0.0]
    assert attention.taken_in(1.0, 2.0, 2.0, 0.5, p) == (0.5, 1.0, 1.0)
    off = params(quiet_config())  # attention off: every offered message is taken in, whatever the engagement
    assert [attention.load(*attention.taken_in(1.0, 2.0, 2.0, e, off), 2.5) for e in (1.0, 0.5, 0.0)] == [2.0] * 3


@both_steps
def test_same_offered_volume_lower_engagement_lower_load(step):
    # 5 broadcast messages offered to each, capacity 2.5: load 5 x 1 / 2.5 = 2 and 5 x 0.5 / 2.5 = 1 (not above 1)
    st = make_state([0.5, 0.5], [], engagement=[1.0, 0.5], trust=[1.0, 0.5])
    step(st, _attention_config(5.0), make_draws(2))
    assert _floats(st.load) == [2.0, 1.0]
    assert st.overloaded.tolist() == [True, False]
    # 1 - 0.2 x min(1, 2 - 1) = 0.8; 0.5 + 0.05 (0.5 - 0.5) = 0.5
    assert _floats(st.engagement) == pytest.approx([0.8, 0.5])


@both_steps
@pytest.mark.parametrize(
    ("engagement", "u", "seen"),
    [
        # engagement 0.5: 2 x 0.5 = 1 message taken in, load 0.4, all attended: chance 1 - e^-1 = 0.632
        (0.5, 0.63, True),
        (0.5, 0.64, False),
        # engagement 1, volume 5: load 2, half attended: chance (1 - e^-5) / 2 = 0.4966
        (1.0, 0.49, True),
        (1.0, 0.50, False),
    ],
)
def test_arrival_is_of_the_volume_taken_in_and_overload_attends_one_over_load(step, engagement, u, seen):
    assert 1 - math.exp(-1.0) == pytest.approx(0.632, abs=1e-3)
    assert (1 - math.exp(-5.0)) / 2 == pytest.approx(0.4966, abs=1e-4)
    cfg = _judging(_attention_config(2.0 if engagement == 0.5 else 5.0))  # the broadcast, 0.1 from 0.9: accepted
    st = make_state([0.9], [], engagement=[engagement], trust=[engagement])
    report = step(st, cfg, make_draws(1, broadcast=u))
    assert int(report.n_accepted[0]) == int(seen)


@both_steps
def test_overloaded_engagement_falls_until_load_reaches_one_and_stops_there(step):
    # offered 5, capacity 2.5, withdrawal 0.5, no recovery: load 2 -> engagement 1 (1 - 0.5 x 1) = 0.5,
    # then load 0.5 x 5 / 2.5 = 1: not overloaded, and the engagement stays where it is
    st = make_state([0.5], [], engagement=[1.0], trust=[1.0])
    cfg = _attention_config(5.0, withdrawal=0.5, recovery=0.0)
    loads, engagement, over = [], [], []
    for _ in range(6):
        step(st, cfg, make_draws(1))
        loads.append(float(st.load[0]))
        engagement.append(float(st.engagement[0]))
        over.append(bool(st.overloaded[0]))
    assert loads == [2.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert engagement == [0.5] * 6
    assert over == [True] + [False] * 5


@both_steps
def test_overload_regulates_itself_toward_load_one_instead_of_withdrawing_to_zero(step):
    # default rates (withdrawal 0.2, recovery 0.05), trust fixed at 1, load 2e: while overloaded (e > 0.5)
    # engagement loses 20% a step, 1 -> 0.8 -> 0.64 -> 0.512 -> 0.4096 (load 0.82: overload left at step 5),
    # then recovers toward trust, e + 0.05 (1 - e), until load passes 1 again: it cycles around load 1 and
    # never withdraws (engagement stays above 0.8 x 0.5 = 0.4 > withdrawn_below 0.2)
    st = make_state([0.5], [], engagement=[1.0], trust=[1.0])
    cfg = _attention_config(5.0)
    cfg.attention.trust_dynamics = False
    e, expected, got, loads, over = 1.0, [], [], [], []
    for _ in range(80):
        e = e * (1 - 0.2) if 2 * e > 1 else e + 0.05 * (1 - e)
        expected.append(e)
        step(st, cfg, make_draws(1))
        got.append(float(st.engagement[0]))
        loads.append(float(st.load[0]))
        over.append(bool(st.overloaded[0]))
    assert got == pytest.approx(expected, rel=1e-5)
    assert expected[:4] == pytest.approx([0.8, 0.64, 0.512, 0.4096])
    assert over[:5] == [True, True, True, True, False]  # the load of a step reads the engagement before it
    assert loads[:5] == pytest.approx([2.0, 1.6, 1.28, 1.024, 0.8192], rel=1e-6)
    assert over.count(False) > 20 and over.count(True) > 4  # it leaves overload, and overload comes back
    assert min(got) >= 0.4 * (1 - 1e-6) and not st.withdrawn[0]


# trust -------------------------------------------------------------------------------------------------
def test_next_trust_rule():
    p = params(_attention_config(trust_rate=0.1))
    assert attention.next_trust(0.5, 1, False, False, p) == pytest.approx(0.5 + 0.1 * 0.5)  # good: toward 1
    assert attention.next_trust(0.5, 1, True, False, p) == pytest.approx(0.5 - 0.1 * 0.5)  # overload: toward 0
    assert attention.next_trust(0.5, 0, False, True, p) == pytest.approx(0.45)  # resisted broadcast: toward 0
    assert attention.next_trust(0.5, 0, True, True, p) == pytest.approx(0.45)  # two bad reasons: one pull
    assert attention.next_trust(0.8, 2, False, True, p) == pytest.approx(0.8 + 0.1 * 0.2 - 0.1 * 0.8)  # both
    assert attention.next_trust(0.5, 0, False, False, p) == 0.5  # nothing happened
    for off in (p._replace(trust_dynamics=False), p._replace(attention=False)):
        assert [attention.next_trust(0.5, n, o, r, off) for n, o, r in ((1, 0, 0), (1, 1, 0), (0, 0, 1))] == [0.5] * 3


@both_steps
@pytest.mark.parametrize("contrast", [True, False])
@pytest.mark.parametrize("switch", ["on", "trust_dynamics off", "attention off"])
def test_trust_rises_after_a_good_step_and_falls_after_overload_or_resistance(step, contrast, switch):
    # 0 accepts the broadcast (0.9, 0.1 from 1.0); 1 accepts it too but is overloaded (literacy 0: capacity
    # 2.5 x 0.5, load 2 / 1.25 = 1.6); 2 is 0.8 from it (beyond T = 0.6) and 3 0.4 (between U and T): both
    # resist it; 4 does not see it. Everyone else's load is 2 / 2.5 = 0.8.
    st = make_state([0.9, 0.9, 0.2, 0.6, 0.9], [], literacy=[0.5, 0.0, 0.5, 0.5, 0.5], trust=[0.5] * 5)
    cfg = _attention_config(2.0, trust_rate=0.1)
    _judging(cfg)
    cfg.influence.contrast = contrast
    if switch == "trust_dynamics off":
        cfg.attention.trust_dynamics = False
    if switch == "attention off":
        cfg.attention.enabled = False
    step(st, cfg, make_draws(5, broadcast=[0.0, 0.0, 0.0, 0.0, BELOW_ONE]))
    if switch == "on":
        assert st.overloaded.tolist() == [False, True, False, False, False]
        # good: 0.5 + 0.1 x 0.5; bad: 0.5 - 0.1 x 0.5; nothing: 0.5
        assert _floats(st.trust) == pytest.approx([0.55, 0.45, 0.45, 0.45, 0.5])
        # recovery read the old trust: 1 + 0.05 (0.5 - 1) = 0.975 (not 1 + 0.05 (0.55 - 1))
        assert float(st.engagement[0]) == pytest.approx(0.975)
    else:
        assert _floats(st.trust) == [0.5] * 5
    assert float(st.stance[2]) == pytest.approx(0.2 - 0.2 * 0.8 if contrast else 0.2)


# nobody is withdrawn for ever by construction ----------------------------------------------------------
def _good_exchanges_config(trust_rate, recovery):
    cfg = _attention_config(1.0, recovery=recovery, trust_rate=trust_rate)  # load at most 1 / 2.5: no overload
    return _judging(cfg)  # the broadcast (1.0) is within U = 0.3 of 0.9 and of every stance it leads to


@both_steps
def test_a_withdrawn_agent_with_good_exchanges_recovers_in_a_computable_number_of_steps(step):
    # trust 0.1 < withdrawn_below 0.2; recovery 1 sets the engagement to the old trust, and a good step
    # moves trust to 1 - (1 - trust) 0.9: trust after k steps 1 - 0.9^(k + 1), engagement after k steps
    # 1 - 0.9^k, withdrawn until 1 - 0.9^k >= 0.2: k = ceil(log 0.8 / log 0.9) = 3
    k = math.ceil(math.log(0.8) / math.log(0.9))
    assert k == 3
    st = make_state([0.9], [], engagement=[0.1], trust=[0.1])
    cfg = _good_exchanges_config(0.1, 1.0)
    withdrawn, engagement = [], []
    for _ in range(k + 1):
        step(st, cfg, make_draws(1, broadcast=0.0))  # the broadcast is seen and accepted every step
        withdrawn.append(bool(st.withdrawn[0]))
        engagement.append(float(st.engagement[0]))
    assert engagement == pytest.approx([0.1, 0.19, 0.271, 0.3439], rel=1e-6)
    assert withdrawn == [True] * (k - 1) + [False, False]
    # without trust dynamics it stays withdrawn: the engagement relaxes to a trust of 0.1
    st = make_state([0.9], [], engagement=[0.1], trust=[0.1])
    cfg.attention.trust_dynamics = False
    for _ in range(50):
        step(st, cfg, make_draws(1, broadcast=0.0))
    assert bool(st.withdrawn[0]) and float(st.engagement[0]) == pytest.approx(0.1)


@both_steps
def test_recovery_at_default_rates_takes_the_number_of_steps_the_recurrence_gives(step):
    # trust_rate 0.02, recovery 0.05: tau' = tau + 0.02 (1 - tau), e' = e + 0.05 (tau - e) (old tau)
    tau, e, k = 0.1, 0.1, 0
    while e < 0.2:
        e, tau, k = e + 0.05 * (tau - e), tau + 0.02 * (1 - tau), k + 1
    assert k == 19  # the first step after which the engagement is back at 0.2 or above
    st = make_state([0.9], [], engagement=[0.1], trust=[0.1])
    cfg = _good_exchanges_config(0.02, 0.05)
    withdrawn = []
    for _ in range(k):
        step(st, cfg, make_draws(1, broadcast=0.0))
        withdrawn.append(bool(st.withdrawn[0]))
    assert withdrawn == [True] * (k - 1) + [False]


# overload attribution ----------------------------------------------------------------------------------
def test_withdrawn_by_overload_rule():
    f = attention.withdrawn_by_overload  # (withdrawn, was withdrawn, was by overload, overloaded now)
    assert f(True, False, False, True)  # begins under overload
    assert not f(True, False, False, False)  # begins without
    assert f(True, True, True, False)  # goes on: keeps what it began with
    assert not f(True, True, False, True)  # ... even when overload comes later
    assert not any(f(False, w, b, o) for w in (False, True) for b in (False, True) for o in (False, True))


@both_steps
def test_withdrawal_that_begins_under_overload_is_attributed_to_it_while_it_lasts(step):
    # 25 offered at engagement 0.21, capacity 2.5: load 2.1, engagement 0.21 (1 - 0.2) = 0.168 < 0.2
    st = make_state([0.5], [], engagement=[0.21], trust=[1.0])
    cfg = _attention_config(25.0, recovery=0.01)
    step(st, cfg, make_draws(1))
    assert float(st.load[0]) == pytest.approx(2.1) and float(st.engagement[0]) == pytest.approx(0.168)
    over, withdrawn, attributed = [bool(st.overloaded[0])], [bool(st.withdrawn[0])], [bool(st.overload_withdrawn[0])]
    cfg.messages.broadcast = False  # no more messages: no overload, engagement 1 - 0.832 x 0.99^k after k more steps
    for _ in range(4):
        step(st, cfg, make_draws(1))
        over.append(bool(st.overloaded[0]))
        withdrawn.append(bool(st.withdrawn[0]))
        attributed.append(bool(st.overload_withdrawn[0]))
    assert float(st.engagement[0]) == pytest.approx(1 - 0.832 * 0.99**4)  # 0.2008 >= 0.2
    assert over == [True, False, False, False, False]
    assert withdrawn == [True, True, True, True, False]
    assert attributed == [True, True, True, True, False]  # while withdrawn, though no longer overloaded


@both_steps
def test_withdrawal_that_begins_without_overload_is_not_attributed_to_it(step):
    # no messages, trust 0: engagement 0.201 + 0.01 (0 - 0.201) = 0.19899 < 0.2, load 0
    st = make_state([0.5], [], engagement=[0.201], trust=[0.0])
    cfg = _attention_config(0.0, recovery=0.01)
    step(st, cfg, make_draws(1))
    assert float(st.engagement[0]) == pytest.approx(0.19899)
    assert (bool(st.withdrawn[0]), bool(st.overloaded[0]), bool(st.overload_withdrawn[0])) == (True, False, False)
    cfg.messages.broadcast, cfg.messages.broadcast_rate = True, 25.0  # now overloaded: load 0.19899 x 10 = 1.99
    step(st, cfg, make_draws(1))
    assert (bool(st.withdrawn[0]), bool(st.overloaded[0]), bool(st.overload_withdrawn[0])) == (True, True, False)


def test_withdrawal_metrics_split_by_attribution():
    st = make_state([0.5] * 4, [], trust=[0.2, 0.4, 0.6, 0.8])
    st.withdrawn[:] = [True, True, False, False]
    st.overload_withdrawn[:] = [True, False, False, False]
    ind = indicators(st, None, MetricsConfig(), 0.3)
    assert ind["withdrawn_share"].tolist() == [True, True, False, False]
    assert ind["overload_withdrawn_share"].tolist() == [True, False, False, False]
    assert ind["disengaged_share"].tolist() == [False, True, False, False]
    assert _floats(ind["trust_mean"]) == pytest.approx([0.2, 0.4, 0.6, 0.8])


# exclusion: asociality -----------------------------------------------------------------------------------
def _exclusion_params(asocial_exclusion=True):
    cfg = quiet_config()
    t = cfg.ties
    t.exclusion, t.exclusion_rate, t.exclusion_base, t.asocial_exclusion = True, 0.5, 0.1, asocial_exclusion
    t.conformity = 0.3
    return cfg


def test_asociality_and_exclusion_chance_rules():
    # asociality 1 - e (1 - m), m the share of muted ties
    a = [ties.asociality(e, m, d) for e, m, d in ((1.0, 0, 4), (0.5, 0, 4), (1.0, 2, 4), (0.5, 2, 4), (0.3, 0, 0))]
    assert a == pytest.approx([0.0, 0.5, 0.5, 0.75, 0.7])  # muting counts like withdrawing
    p = params(_exclusion_params())
    # rate 0.5 x (base 0.1 + 0.9 x asociality)
    chance = [ties.exclusion_chance(x, p) for x in (0.0, 0.5, 0.75, 1.0)]
    assert chance == pytest.approx([0.05, 0.5 * 0.55, 0.5 * 0.775, 0.5])
    off = params(_exclusion_params(asocial_exclusion=False))
    assert [ties.exclusion_chance(x, off) for x in (0.0, 0.5, 1.0)] == pytest.approx([0.05] * 3)  # rate x base


def _two_dissenters(engagement=None):
    """A 5-clique of one group at 0.9, 0.9, 0.9, 0.1, 0.1: 3 and 4 dissent (0.8 from the norm 0.9)."""
    st = make_state(
        [0.9, 0.9, 0.9, 0.1, 0.1], [(a, b) for a in range(5) for b in range(a + 1, 5)], engagement=engagement
    )
    assert (
        ties.dissenters_nb(st.stance, st.group, st.group_order, st.group_start, 0.3).tolist()
        == [False] * 3 + [True] * 2
    )
    assert ties_of(st.ties, 3) == [0, 1, 2, 4]
    return st


@both_steps
@pytest.mark.parametrize("asocial_exclusion", [True, False])
def test_an_asocial_dissenter_is_excluded_where_an_engaged_one_is_not(step, asocial_exclusion):
    # 3 is at engagement 0.2 (attention off: it stays), 4 at 1: asociality 0.8 and 0;
    # chances 0.5 x (0.1 + 0.9 x 0.8) = 0.41 and 0.5 x 0.1 = 0.05; u = 0.2 lies between
    st = _two_dissenters(engagement=[1.0, 1.0, 1.0, 0.2, 1.0])
    report = step(st, _exclusion_params(asocial_exclusion), make_draws(5, exclude=0.2))
    if asocial_exclusion:
        # 3's pick: floor(0.2 / 0.41 x 4) = floor(1.95) = 1: its second in-group tie, to 1
        assert _events(report, "excluded") == ([3], [1])
        assert st.ledger["ties_lost"].tolist() == [0, 0, 0, 1, 0]
    else:  # everyone's chance is 0.05 < 0.2
        assert _events(report, "excluded") == ([], [])
        assert st.ties.degree().tolist() == [4] * 5


@both_steps
@pytest.mark.parametrize("muting", [True, False])
def test_muting_counts_in_asociality(step, muting):
    # 3 muted 2 of its 4 ties (to 0 and 1), all fully engaged: asociality 1 - 1 x (1 - 0.5) = 0.5,
    # chance 0.5 x (0.1 + 0.9 x 0.5) = 0.275 against 0.05 for 4; u = 0.2 lies between
    st = _two_dissenters()
    if muting:
        start = st.ties.indptr[3]
        st.ties.muted[start : start + 2] = True
        st.ties.mutes[3] = True
    report = step(st, _exclusion_params(), make_draws(5, exclude=0.2))
    # 3's pick: floor(0.2 / 0.275 x 4) = floor(2.91) = 2: its third in-group tie, to 2
    assert _events(report, "excluded") == (([3], [2]) if muting else ([], []))


# rewiring: marginalized dissenters ---------------------------------------------------------------------
def _rewiring_config(rate=0.8, homophily=0.15, acceptance=0.3):
    cfg = quiet_config()
    t = cfg.ties
    t.rewiring, t.rewire_rate, t.conformity, t.homophily = True, rate, 0.3, homophily
    cfg.influence.acceptance = acceptance  # influence is off: U plays no part in the ties
    return cfg


def test_rewire_chance_rule():
    p = params(_rewiring_config())
    assert [ties.lost_share(d, d0) for d, d0 in ((2, 4), (4, 4), (5, 4), (0, 0), (0, 3))] == [0.5, 0.0, 0.0, 0.0, 1.0]
    assert [ties.rewire_chance(loss, p) for loss in (0.0, 0.5, 1.0)] == pytest.approx([0.0, 0.4, 0.8])  # 0.8 x loss


@both_steps
@pytest.mark.parametrize(("u", "to"), [(0.1, 5), (0.39, 6), (0.41, None)])
def test_only_dissenters_that_lost_in_group_ties_rewire_with_chance_rate_times_loss(step, u, to):
    # group 0: 0 (0.1) and 1 (0.12) dissent from the norm 0.9; 2, 3, 4 at 0.9. group 1: 5 (0.1), 6 (0.05)
    st = make_state(
        [0.1, 0.12, 0.9, 0.9, 0.9, 0.1, 0.05], [(0, 2), (1, 3), (2, 3), (3, 4), (2, 4)], group=[0, 0, 0, 0, 0, 1, 1]
    )
    st.in_group_degree0[0] = 2  # 0 had 2 in-group ties, has 1: loss 0.5, chance 0.8 x 0.5 = 0.4
    st.in_group_degree0[4] = 4  # 4 lost half too, but does not dissent; 1 lost nothing: chance 0
    report = step(st, _rewiring_config(), make_draws(7, rewire=u))
    if to is None:  # u = 0.41 > 0.4: nobody rewires
        assert _events(report, "rewired") == ([], []) and _events(report, "cut_rewire") == ([], [])
    else:  # 0's candidate among the outsiders [5, 6]: floor(u / 0.4 x 2), both within homophily 0.15 of 0.1
        assert _events(report, "cut_rewire") == ([0], [2])  # its only tie, 0.8 away
        assert _events(report, "rewired") == ([0], [to])
        assert ties_of(st.ties, 0) == [to]


@both_steps
@pytest.mark.parametrize("exclusion", [True, False])
def test_rewiring_reads_the_loss_after_this_steps_exclusion(step, exclusion):
    # 0 (0.1) dissents in group 0 (norm 0.9) and has both its initial in-group ties, to 1 and 2: loss 0
    st = make_state([0.1, 0.9, 0.9, 0.9, 0.1], [(0, 1), (0, 2), (1, 2), (2, 3), (1, 3)], group=[0, 0, 0, 0, 1])
    cfg = _rewiring_config(rate=1.0)
    cfg.ties.exclusion, cfg.ties.exclusion_rate, cfg.ties.exclusion_base = exclusion, 1.0, 1.0
    # 4a: excluded for sure, u = 0 picks its first in-group tie (to 1): loss 0.5 at the start of 4d,
    # chance 1 x 0.5 > 0.1, candidate floor(0.1 / 0.5 x 1) = 0: the only outsider, 4; it drops 2 (0.8 away)
    report = step(st, cfg, make_draws(5, exclude=[0.0, BELOW_ONE, BELOW_ONE, BELOW_ONE, BELOW_ONE], rewire=0.1))
    if exclusion:
        assert _events(report, "excluded") == ([0], [1])
        assert _events(report, "cut_rewire") == ([0], [2]) and _events(report, "rewired") == ([0], [4])
    else:
        assert _events(report, "rewired") == ([], []) and ties_of(st.ties, 0) == [1, 2]


# homophily, not the latitude of acceptance, decides which ties are accepted and dropped ----------------
def test_homophily_rules():
    narrow = params(_rewiring_config(homophily=0.15, acceptance=0.3))
    wide = params(_rewiring_config(homophily=0.25, acceptance=0.1))
    # stances 0.2 apart: within U = 0.3 but beyond homophily 0.15, and the other way round
    assert not ties.accepts_tie(0.5, 0.7, False, narrow)
    assert ties.accepts_tie(0.5, 0.7, False, wide) and not ties.accepts_tie(0.5, 0.7, True, wide)  # unless withdrawn
    assert ties.worth_dropping(0, 0.2, narrow) and not ties.worth_dropping(0, 0.2, wide)
    assert not ties.worth_dropping(-1, 0.9, narrow)  # no tie to drop


@both_steps
@pytest.mark.parametrize(("homophily", "acceptance", "formed"), [(0.15, 0.3, False), (0.25, 0.1, True)])
def test_formation_accepts_within_homophily_not_within_u(step, homophily, acceptance, formed):
    # 0 (0.5) and 1 (0.7) are 0.2 apart; 0 accepts a forum message at its own stance and proposes
    # (rate 1, in the group: floor(0.99 x 2) = 1); 1 sees nothing and does not propose
    st = make_state([0.5, 0.7], [])
    cfg = _judging(quiet_config())
    cfg.messages.forum = True
    cfg.influence.acceptance = acceptance
    cfg.ties.formation, cfg.ties.formation_rate, cfg.ties.formation_in_group, cfg.ties.homophily = (
        True,
        1.0,
        1.0,
        homophily,
    )
    report = step(st, cfg, make_draws(2, forum=[0.0, BELOW_ONE], form=[0.99, BELOW_ONE], forum_content=[0.5, 0.7]))
    assert report.n_accepted.tolist() == [1, 0]
    assert _events(report, "formed") == (([0], [1]) if formed else ([], []))


@both_steps
@pytest.mark.parametrize(
    ("outsider", "homophily", "acceptance", "rewired"),
    [
        (0.1, 0.15, 0.3, True),  # the outsider is 0 away; the neighbour 0.2 > 0.15 away is worth dropping
        (0.1, 0.25, 0.1, False),  # 0.2 < 0.25: not worth dropping (though beyond U = 0.1)
        (0.3, 0.15, 0.3, False),  # the outsider 0.2 > 0.15 away refuses (though within U = 0.3)
    ],
)
def test_rewiring_accepts_and_drops_by_homophily_not_u(step, outsider, homophily, acceptance, rewired):
    # group 0: 0 (0.1) and 1 (0.3) dissent from the norm 0.9; 0's only tie is to 1, and it lost half
    # its in-group ties (chance 1 x 0.5 > u = 0.1); the only outsider is 5
    st = make_state([0.1, 0.3, 0.9, 0.9, 0.9, outsider], [(0, 1), (1, 2), (2, 3), (3, 4)], group=[0, 0, 0, 0, 0, 1])
    st.in_group_degree0[0] = 2
    report = step(st, _rewiring_config(rate=1.0, homophily=homophily, acceptance=acceptance), make_draws(6, rewire=0.1))
    assert _events(report, "rewired") == (([0], [5]) if rewired else ([], []))
    assert _events(report, "cut_rewire") == (([0], [1]) if rewired else ([], []))


# hardening: marginalization narrows acceptance --------------------------------------------------------
def _influence_params(**changes):
    cfg = quiet_config()
    f = cfg.influence
    f.enabled, f.acceptance, f.rejection, f.rate, f.critical_narrowing, f.hardening = True, 0.3, 0.6, 0.2, 0.5, 0.8
    cfg.stance.dominant = 1.0
    return params(cfg)._replace(**changes)


def _stance(x, p, loss=0.0, y_peer=0.0, y_forum=0.0, peer=False, broadcast=False, forum=False):
    """`influence.new_stance` of an agent at x, identity clarity 0, critical thinking 0, full trust, by keyword."""
    return influence.new_stance(x, y_peer, 0.0, 0.0, 1.0, loss, y_forum, peer, broadcast, forum, p)


def _judged(x, loss, channel, **changes):
    """(stance, accepted, rejected peer, resisted) of an agent at x seeing one message 0.2 away on `channel`."""
    y = x + 0.2
    seen = {c: channel == c for c in ("peer", "broadcast", "forum")}
    return _stance(x, _influence_params(**changes), loss, y_peer=y, y_forum=y, **seen)


def test_hardening_narrows_acceptance_in_proportion_to_the_loss():
    p = _influence_params()
    assert [influence.hardened(0.3, loss, p) for loss in (0.0, 0.25, 0.5, 1.0)] == pytest.approx(
        [0.3, 0.3 * (1 - 0.2), 0.3 * (1 - 0.4), 0.3 * (1 - 0.8)]
    )
    assert influence.hardened(0.3, 1.0, p._replace(hardening=0.0)) == 0.3
    for channel in ("peer", "broadcast", "forum"):  # 0.8: the broadcast (1.0) is 0.2 away as well
        x, acc, _, _ = _judged(0.8, 0.0, channel)
        assert x == pytest.approx(0.84) and acc == 1  # 0.2 < U = 0.3
        # U 0.3 (1 - 0.8 x 0.5) = 0.18 < 0.2: neither accepted nor rejected
        x, acc, rej, _ = _judged(0.8, 0.5, channel)
        assert x == 0.8 and (acc, rej) == (0, False)
        x, acc, _, _ = _judged(0.8, 0.5, channel, hardening=0.0)
        assert x == pytest.approx(0.84) and acc == 1  # hardening 0: no effect
    # the latitude of rejection does not move: 0.5 away stays neutral even at U = 0
    assert _stance(0.5, _influence_params(hardening=1.0), loss=1.0, y_peer=0.0, peer=True)[:3] == (0.5, 0, False)


@both_steps
@pytest.mark.parametrize("hardening", [0.8, 0.0])
def test_hardening_in_a_step(step, hardening):
    # one group, 0-1 and 2-3 tied, 0.2 apart (norm 0.6: nobody dissents); 0 had 2 in-group ties and has 1
    st = make_state([0.5, 0.7, 0.5, 0.7], [(0, 1), (2, 3)])
    st.in_group_degree0[0] = 2
    cfg = quiet_config()
    cfg.messages.peer = True
    f = cfg.influence
    f.enabled, f.acceptance, f.rejection, f.rate, f.hardening = True, 0.3, 0.6, 0.2, hardening
    report = step(st, cfg, make_draws(4, peer=0.0))  # everyone sees its neighbour's message
    # 0: U = 0.3 (1 - hardening x 0.5): 0.18 < 0.2 keeps it at 0.5, 0.3 lets it move 0.2 x 0.2
    x0 = 0.5 if hardening else 0.54
    assert _floats(st.stance) == pytest.approx([x0, 0.66, 0.54, 0.66])
    assert report.n_accepted.tolist() == [0 if hardening else 1, 1, 1, 1]


# resistance to the broadcast ----------------------------------------------------------------------------
@pytest.mark.parametrize("contrast", [True, False])
def test_a_seen_broadcast_not_accepted_is_resisted_with_contrast_on_and_off(contrast):
    p = _influence_params(contrast=contrast)

    def b(x, seen=True):
        return _stance(x, p, broadcast=seen)

    assert b(0.6) == (0.6, 0, False, True)  # 0.4 from 1.0: neutral, resisted
    x, acc, rej, res = b(0.2)  # 0.8 away: beyond T, resisted; the boomerang only with contrast
    assert x == pytest.approx(0.2 - 0.2 * 0.8 if contrast else 0.2) and (acc, rej, res) == (0, False, True)
    x, acc, rej, res = b(0.8)  # 0.2 away: accepted
    assert x == pytest.approx(0.84) and (acc, res) == (1, False)
    assert b(0.2, seen=False) == (0.2, 0, False, False)  # not seen: nothing to resist
    assert influence.judge(0.2, 1.0, 0.3, p.rejection) == -1  # rejected beyond T whatever contrast


# invariants ---------------------------------------------------------------------------------------------
_unit = st.floats(0.0, 1.0)


@settings(max_examples=300, deadline=None)
@given(trust=_unit, rate=_unit, n_accepted=st.integers(0, 3), overloaded=st.booleans(), resisted=st.booleans())
def test_next_trust_stays_in_the_unit_interval_and_moves_the_right_way(trust, rate, n_accepted, overloaded, resisted):
    p = params(_attention_config(trust_rate=0.5))._replace(trust_rate=rate)
    new = attention.next_trust(trust, n_accepted, overloaded, resisted, p)
    assert 0.0 <= new <= 1.0
    good, bad = n_accepted > 0 and not overloaded, overloaded or resisted
    if good and not bad:
        assert new >= trust and new == pytest.approx(trust + rate * (1 - trust))
    elif bad and not good:
        assert new <= trust and new == pytest.approx(trust - rate * trust)
    elif not good and not bad:
        assert new == trust
    assert attention.next_trust(trust, n_accepted, overloaded, resisted, p._replace(trust_dynamics=False)) == trust


@settings(max_examples=300, deadline=None)
@given(a1=_unit, a2=_unit, rate=_unit, base=_unit)
def test_exclusion_chance_grows_with_asociality_between_rate_times_base_and_rate(a1, a2, rate, base):
    p = params(_exclusion_params())._replace(exclusion_rate=rate, exclusion_base=base)
    lo, hi = sorted((a1, a2))
    c_lo, c_hi = ties.exclusion_chance(lo, p), ties.exclusion_chance(hi, p)
    assert c_lo <= c_hi
    tol = 1e-12
    assert rate * base - tol <= c_lo and c_hi <= rate + tol
    assert ties.exclusion_chance(hi, p._replace(asocial_exclusion=False)) == pytest.approx(rate * base)


@settings(max_examples=300, deadline=None)
@given(e1=_unit, e2=_unit, degree=st.integers(0, 20), data=st.data())
def test_asociality_is_a_share_that_falls_with_engagement_and_rises_with_muting(e1, e2, degree, data):
    m1 = data.draw(st.integers(0, degree))
    m2 = data.draw(st.integers(m1, degree))
    lo, hi = sorted((e1, e2))
    a = ties.asociality(lo, m1, degree)
    assert 0.0 <= a <= 1.0
    assert ties.asociality(hi, m1, degree) <= a <= ties.asociality(lo, m2, degree)


@settings(max_examples=200, deadline=None)
@given(e1=_unit, e2=_unit, volumes=st.tuples(*[st.floats(0.0, 100.0)] * 3), cap=st.floats(0.1, 10.0))
def test_load_grows_with_engagement_for_the_same_offered_volume(e1, e2, volumes, cap):
    p = params(_attention_config())
    lo, hi = sorted((e1, e2))
    assert attention.load(*attention.taken_in(*volumes, lo, p), cap) <= attention.load(
        *attention.taken_in(*volumes, hi, p), cap
    )
