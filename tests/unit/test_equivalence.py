"""The per-agent reference step and the compiled step give the same next state from the same state and draws."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config.compose import set_value
from sim.config.params import SWITCHES, Config, validate
from sim.core.draws import draw
from sim.core.initialize import initial_state
from sim.step.compiled import step_compiled
from sim.step.exposure import forum_reach, level
from sim.step.records import params
from sim.step.reference import step_reference

_set = set_value


def assert_same(a, b, ra, rb):
    for f in ("stance", "engagement", "identity", "load", "trust"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=0, atol=1e-12, err_msg=f)
    for f in ("overloaded", "withdrawn", "overload_withdrawn"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    for k in a.ledger:
        assert np.array_equal(a.ledger[k], b.ledger[k]), k
    ca, cb = a.ties.canonical(), b.ties.canonical()
    for k in ca:
        assert np.array_equal(ca[k], cb[k]), k
    assert np.array_equal(a.ties.indptr, b.ties.indptr)
    assert np.array_equal(a.ties.nbr, b.ties.nbr)  # same layout too, so later steps draw alike
    for x, y in zip(ra.event_table(), rb.event_table(), strict=True):
        assert np.array_equal(x, y)
    assert np.array_equal(ra.n_accepted, rb.n_accepted)


def run_both(cfg, seed, steps):
    """Step both implementations from the same state and draws; compare; return the event count."""
    rng = np.random.default_rng(seed)
    state = initial_state(cfg, rng)
    n_events = 0
    for _ in range(steps):
        reach = forum_reach(level(state.t + 1, cfg.exposure), params(cfg), state.engagement)  # as the model draws
        draws = draw(rng, state.n_agents, cfg.messages, forum_reach=reach)
        a, b = state.copy(), state.copy()
        ra, rb = step_compiled(a, cfg, draws), step_reference(b, cfg, draws)
        assert_same(a, b, ra, rb)
        # the in-group degrees the compiled step counts in the exchange and keeps through phase 4 (the
        # exclusion and the rewiring read them) are those of the ties, at the end of the step too
        in_now = a.scratch()["exchange"][-1]
        assert np.array_equal(in_now, a.in_group_degree())
        n_events += len(ra.event_table()[0])
        state = a
    return n_events


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    switches=st.lists(st.booleans(), min_size=len(SWITCHES), max_size=len(SWITCHES)),
    n=st.integers(3, 60),
    groups=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(["sbm", "complete", "small_world"]),
    shock=st.booleans(),
    mute_after=st.integers(1, 3),
    slack=st.sampled_from([0.0, 0.25]),
    rates=st.lists(st.floats(0, 1), min_size=8, max_size=8),
    cap=st.sampled_from([0.0, 0.5, 3.0]),
)
def test_reference_and_compiled_agree(switches, n, groups, seed, kind, shock, mute_after, slack, rates, cap):
    cfg = Config()
    cfg.n_agents, cfg.n_groups = n, min(groups, n)
    cfg.network.kind, cfg.network.p_in, cfg.network.p_out, cfg.network.slack = kind, 0.4, 0.05, slack
    cfg.network.k = 2 if n <= 4 else 4
    for name, on in zip(SWITCHES, switches, strict=True):
        _set(cfg, name, on)
    cfg.exposure.kind, cfg.exposure.start, cfg.exposure.length, cfg.exposure.height = (
        ("shock" if shock else "constant"),
        1,
        2,
        4.0,
    )
    cfg.ties.mute_after = mute_after
    cfg.ties.exclusion_rate, cfg.ties.rewire_rate, cfg.ties.formation_rate, cfg.attention.capacity = (
        rates[0],
        rates[1],
        rates[2],
        1.0 + 10 * rates[3],
    )
    cfg.ties.exclusion_base, cfg.ties.homophily, cfg.influence.hardening, cfg.attention.trust_rate = rates[4:]
    cfg.messages.cap = cap
    validate(cfg)
    run_both(cfg, seed, steps=4)


def test_many_steps_of_the_default_model_agree():
    """A longer check on the default mechanisms, with heavy tie traffic and repacks."""
    cfg = Config()
    cfg.n_agents, cfg.n_groups = 150, 3
    cfg.exposure.kind, cfg.exposure.start = "shock", 5
    cfg.ties.exclusion_rate = cfg.ties.rewire_rate = cfg.ties.formation_rate = 0.4
    cfg.ties.mute_after, cfg.network.slack = 1, 0.0
    cfg.messages.cap = 4.0  # binds during the shock only
    assert run_both(cfg, seed=7, steps=25) > 100  # the check exercised the tie mechanisms


def test_spare_room_and_its_moves_do_not_change_results():
    """`network.slack` is storage only: the same seed gives the same run.

    Blocks keep ties in the order they were formed, whatever their spare room and whenever they are
    widened or all re-packed.
    """
    runs = []
    for slack in (0.0, 0.25, 3.0):
        cfg = Config()
        cfg.n_agents, cfg.n_groups, cfg.network.slack = 300, 3, slack
        cfg.exposure.kind, cfg.exposure.start = "shock", 5
        cfg.ties.exclusion_rate = cfg.ties.rewire_rate = cfg.ties.formation_rate = 0.4
        cfg.ties.mute_after = 1
        rng = np.random.default_rng(11)
        state = initial_state(cfg, rng)
        events = []
        for _ in range(30):
            reach = forum_reach(level(state.t + 1, cfg.exposure), params(cfg), state.engagement)
            draws = draw(rng, state.n_agents, cfg.messages, forum_reach=reach)
            report = step_compiled(state, cfg, draws)
            events.append(report.event_table())
        runs.append((state, events))
    (a, ea), sizes = runs[0], {len(s.ties.nbr) for s, _ in runs}
    assert len(sizes) == 3  # three different layouts
    for b, eb in runs[1:]:
        np.testing.assert_array_equal(a.stance, b.stance)
        ca, cb = a.ties.canonical(), b.ties.canonical()
        for k in ca:
            assert np.array_equal(ca[k], cb[k]), k
        for x, y in zip(ea, eb, strict=True):
            for u, v in zip(x, y, strict=True):
                assert np.array_equal(u, v)


def test_scratch_arrays_kept_between_steps_change_nothing():
    """Scratch arrays kept between steps (`State.scratch`) give the same run as fresh ones.

    A state stepped on keeps them; a copy made before each step starts without them. Copies and pickles
    leave them out.
    """
    import pickle

    cfg = Config()
    cfg.n_agents, cfg.n_groups = 200, 4
    cfg.exposure.kind, cfg.exposure.start = "shock", 3
    cfg.ties.exclusion_rate = cfg.ties.rewire_rate = cfg.ties.formation_rate = 0.4
    cfg.ties.mute_after = 1
    rng = np.random.default_rng(5)
    kept = initial_state(cfg, rng)
    fresh = kept.copy()
    n_events, first = 0, None
    for _ in range(20):
        reach = forum_reach(level(kept.t + 1, cfg.exposure), params(cfg), kept.engagement)
        draws = draw(rng, kept.n_agents, cfg.messages, forum_reach=reach)
        fresh = fresh.copy()
        assert "_scratch" not in fresh.__dict__
        ra, rb = step_compiled(kept, cfg, draws), step_compiled(fresh, cfg, draws)
        assert_same(kept, fresh, ra, rb)
        n_events += len(ra.event_table()[0])
        if kept.t == 1:
            first = kept.scratch()["exchange"]
    assert n_events > 50  # rejections, mutes and cuts read the scratch arrays
    assert kept.scratch()["exchange"] is first  # one set, used by every step
    assert "_scratch" not in pickle.loads(pickle.dumps(kept)).__dict__
