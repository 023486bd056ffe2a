"""Invariants that hold for any parameters: bounds, tie symmetry, ledger bookkeeping."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config.params import Config
from sim.core.report import EVENT_KINDS
from sim.core.state import LEDGER
from sim.model import ResocializationModel
from tests.support.ties import check_consistent

unit = st.floats(0, 1)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**9),
    n=st.integers(2, 80),
    groups=st.integers(1, 8),
    acceptance=unit,
    gap=unit,
    rate=unit,
    height=st.floats(0, 20),
    capacity=st.floats(0.1, 50),
    exclusion=unit,
    rewire=unit,
    formation=unit,
    withdrawal=unit,
    recovery=unit,
    gain=unit,
    decay=unit,
    mean=st.floats(0.01, 0.99),
)
def test_invariants_hold_over_a_run(
    seed,
    n,
    groups,
    acceptance,
    gap,
    rate,
    height,
    capacity,
    exclusion,
    rewire,
    formation,
    withdrawal,
    recovery,
    gain,
    decay,
    mean,
):
    cfg = Config()
    cfg.seed, cfg.n_agents, cfg.n_groups = seed, n, min(groups, n)
    cfg.network.p_in, cfg.network.p_out = 0.3, 0.05
    cfg.influence.acceptance, cfg.influence.rejection, cfg.influence.rate = acceptance, min(1, acceptance + gap), rate
    cfg.exposure.kind, cfg.exposure.start, cfg.exposure.height = "shock", 2, height
    cfg.attention.capacity, cfg.attention.withdrawal_rate, cfg.attention.recovery_rate = capacity, withdrawal, recovery
    cfg.ties.exclusion_rate, cfg.ties.rewire_rate, cfg.ties.formation_rate = exclusion, rewire, formation
    cfg.identity.gain, cfg.identity.decay, cfg.stance.initial_mean = gain, decay, mean
    model = ResocializationModel(cfg)
    s = model.state
    events = np.zeros(len(EVENT_KINDS), dtype=np.int64)
    drops = mute_cuts = 0
    for _ in range(8):
        model.step()
        _, _, kind = model.last_report.event_table()
        events += np.bincount(kind, minlength=len(EVENT_KINDS))
        ev = model.last_report.events
        drops += len(ev.get("cut_rewire", ((),))[0])
        mute_cuts += len(ev.get("cut_mute", ((),))[0])
        for name in ("stance", "engagement", "identity"):
            v = getattr(s, name)
            assert np.all((v >= 0) & (v <= 1)), name
        assert np.all(s.load >= 0)
        check_consistent(s.ties)  # symmetric: every arc has its reverse in the neighbour's block
        u, v, _, _ = s.ties.edges()
        adj = np.zeros((n, n), dtype=int)
        adj[u, v] += 1
        adj[v, u] += 1
        assert np.array_equal(adj, adj.T) and adj.max(initial=0) <= 1 and np.all(np.diag(adj) == 0)
        assert np.array_equal(s.ties.degree(), adj.sum(axis=1))
        assert np.all(s.withdrawn == (s.engagement < cfg.attention.withdrawn_below))
    count = dict(zip(EVENT_KINDS, events.tolist(), strict=True))
    # ledger bookkeeping: a new tie counts at both ends; a lost tie for those who did not choose it:
    # the excluded dissenter, the neighbour a rewirer dropped, both ends of a mutual mute
    assert s.ledger["ties_gained"].sum() == 2 * (count["formed"] + count["rewired"])
    assert count["cut"] == drops + mute_cuts
    assert drops >= count["rewired"]  # two dissenters who pick each other drop two ties for one new tie
    assert s.ledger["ties_lost"].sum() == count["excluded"] + drops + 2 * mute_cuts
    assert s.ledger["identity_gains"].max(initial=0) <= 8
    pos = (s.ledger["identity_gains"] + s.ledger["ties_gained"]) > 0
    neg = (s.ledger["overload_episodes"] + s.ledger["withdrawals"] + s.ledger["ties_lost"]) > 0
    shares = [np.mean(pos & ~neg), np.mean(neg & ~pos), np.mean(pos & neg), np.mean(~pos & ~neg)]
    assert np.isclose(sum(shares), 1.0)
    assert set(s.ledger) == set(LEDGER)
