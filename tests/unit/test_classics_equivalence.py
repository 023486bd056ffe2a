"""Each classic preset: the per-agent reference and the numba kernel agree bit for bit.

Same (state, draws) in, same next state out: opinions, tie layout, events, accepted counts.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config.params import validate
from sim.model import ResocializationModel
from sim.studies.classics import preset_config

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pair(cfg):
    """Two models of one config, one per implementation (same seed: same network, same draws)."""
    models = []
    for impl in ("reference", "compiled"):
        c = validate(cfg)
        c = type(c)(**{**c.__dict__})  # shallow copy is enough: only `implementation` differs
        c.implementation, c.mesa_agents = impl, "never"
        models.append(ResocializationModel(c))
    return models


def _assert_same(ref, fast):
    a, b = ref.state, fast.state
    assert a.t == b.t
    assert np.array_equal(a.stance, b.stance), np.max(np.abs(a.stance - b.stance))
    for f in ("indptr", "nbr", "muted", "rejections"):  # the same layout, slot for slot
        assert np.array_equal(getattr(a.ties, f), getattr(b.ties, f)), f
    ra, rb = ref.last_report, fast.last_report
    assert np.array_equal(ra.n_accepted, rb.n_accepted)
    for x, y in zip(ra.event_table(), rb.event_table(), strict=True):
        assert np.array_equal(x, y)
    assert ref.converged == fast.converged


def _run_both(cfg, steps):
    ref, fast = _pair(cfg)
    assert np.array_equal(ref.state.stance, fast.state.stance)
    for _ in range(steps):
        ref.step()
        fast.step()
        _assert_same(ref, fast)
    return ref, fast


network = st.sampled_from(["complete", "sbm", "small_world"])


def _network(cfg, kind, n, p_in):
    cfg.network.kind = kind
    cfg.network.p_in = cfg.network.p_out = p_in
    cfg.network.k = 2


@SETTINGS
@given(
    n=st.integers(3, 40),
    seed=st.integers(0, 2**32 - 1),
    kind=network,
    p_in=st.floats(0, 1),
    d=st.floats(0, 1),
    mu=st.floats(0, 1),
    steps=st.integers(1, 4),
)
def test_deffuant(n, seed, kind, p_in, d, mu, steps):
    cfg = preset_config("deffuant")
    cfg.n_agents, cfg.seed = n, seed
    _network(cfg, kind, n, p_in)
    cfg.preset.d, cfg.preset.mu = d, mu
    _run_both(cfg, steps)


@SETTINGS
@given(
    n=st.integers(2, 40),
    seed=st.integers(0, 2**32 - 1),
    kind=network,
    p_in=st.floats(0, 1),
    eps=st.floats(0, 1),
    steps=st.integers(1, 4),
)
def test_hegselmann_krause(n, seed, kind, p_in, eps, steps):
    cfg = preset_config("hegselmann_krause")
    cfg.n_agents, cfg.seed = n, seed
    _network(cfg, kind, max(n, 3), p_in)
    if kind == "small_world" and n < 3:
        cfg.network.kind = "complete"
    cfg.preset.epsilon = eps
    _run_both(cfg, steps)


@SETTINGS
@given(
    n=st.integers(3, 40),
    seed=st.integers(0, 2**32 - 1),
    kind=network,
    p_in=st.floats(0, 1),
    U=st.floats(0, 2),
    extra=st.floats(0, 2),
    mu=st.floats(0, 1),
    two_way=st.booleans(),
    steps=st.integers(1, 4),
)
def test_jager_amblard(n, seed, kind, p_in, U, extra, mu, two_way, steps):
    cfg = preset_config("jager_amblard")
    cfg.n_agents, cfg.seed = n, seed
    _network(cfg, kind, n, p_in)
    cfg.preset.U, cfg.preset.T, cfg.preset.mu, cfg.preset.two_way = U, min(2.0, U + extra), mu, two_way
    _run_both(cfg, steps)


@SETTINGS
@given(
    n=st.integers(3, 40),
    seed=st.integers(0, 2**32 - 1),
    k=st.floats(0.5, 8),
    d=st.floats(0, 1),
    mu=st.floats(0, 1),
    w=st.floats(0, 1),
    slack=st.sampled_from([0.0, 0.25]),
    steps=st.integers(1, 5),
)
def test_kozma_barrat(n, seed, k, d, mu, w, slack, steps):
    cfg = preset_config("kozma_barrat")
    cfg.n_agents, cfg.seed = n, seed
    cfg.preset.k, cfg.preset.d, cfg.preset.mu, cfg.preset.w = min(k, n - 1), d, mu, w
    cfg.network.slack = slack
    _run_both(cfg, steps)


@SETTINGS
@given(
    n=st.integers(4, 40),
    seed=st.integers(0, 2**32 - 1),
    k=st.floats(0.5, 8),
    phi=st.floats(0, 1),
    gamma_share=st.floats(0, 1),
    slack=st.sampled_from([0.0, 0.25]),
    steps=st.integers(1, 5),
)
def test_holme_newman(n, seed, k, phi, gamma_share, slack, steps):
    cfg = preset_config("holme_newman")
    cfg.n_agents, cfg.seed = n, seed
    cfg.preset.k, cfg.preset.phi = min(k, n - 1), phi
    cfg.preset.gamma = 1.0 + gamma_share * (n / 2.5 - 1.0)  # G = round(n / gamma) >= 2
    cfg.network.slack = slack
    _run_both(cfg, steps)


@pytest.mark.parametrize("name", ["kozma_barrat", "holme_newman"])
def test_rewiring_presets_agree_through_many_repacks(name):
    """Long enough, on full blocks, for the kernels to stop and resume around several re-packs."""
    cfg = preset_config(name, "n_agents=60", "seed=3", "network.slack=0")
    cfg.preset.phi, cfg.preset.w, cfg.preset.gamma = 0.9, 0.9, 5.0
    import sim.core.tiestore as ts

    calls = []
    original = ts.ensure_capacity

    def counting(ties, need):
        calls.append(1)
        return original(ties, need)

    ts.ensure_capacity = counting
    try:
        _run_both(cfg, 30)
    finally:
        ts.ensure_capacity = original
    assert len(calls) >= 2  # at least one re-pack in each implementation


def test_complete_graph_partner_rule_is_the_tie_rule():
    """On the complete graph, `other agent` and `k-th tie in slot order` pick the same partner."""
    from sim.classics import deffuant

    cfg = preset_config("deffuant", "n_agents=50", "seed=5")
    a, b = _pair(cfg)
    tie_cfg = preset_config("deffuant", "n_agents=50", "seed=5")
    tie_cfg.network.kind = "sbm"  # any kind but complete: partners from the (complete) ties
    for _ in range(5):
        draws = deffuant.draw(a.rng, a.state, a.cfg)
        deffuant.step_compiled(a.state, a.cfg, draws)
        deffuant.step_compiled(b.state, tie_cfg, draws)
        assert np.array_equal(a.state.stance, b.state.stance)
