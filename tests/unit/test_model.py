"""The Mesa side: real agents that read and write their row of the state arrays."""

import mesa
import numpy as np
import pytest

from sim.config.errors import ConfigError
from sim.config.params import Config
from sim.model import ResocializationModel
from sim.model.agents import Professional


def test_agents_are_mesa_agents_viewing_the_arrays(small_cfg):
    model = ResocializationModel(small_cfg)
    assert isinstance(model, mesa.Model) and len(model.agents) == small_cfg.n_agents
    agent = model.agents.select(lambda a: a.row == 7).to_list()[0]
    assert isinstance(agent, Professional)
    assert agent.stance == model.state.stance[7]
    agent.stance = 0.25
    assert model.state.stance[7] == 0.25
    assert agent.profession in ("social_work", "health_care")
    assert agent.degree == model.state.ties.degree()[7]
    assert agent.in_group_degree == model.state.in_group_degree()[7]
    assert set(agent.ledger) >= {"ties_lost", "identity_gains"}
    mean = np.mean(model.agents.get("engagement"))
    assert mean == pytest.approx(model.state.engagement.mean())


def test_step_advances_mesa_time_and_state(small_cfg):
    model = ResocializationModel(small_cfg)
    before = model.state.stance.copy()
    model.step()
    model.step()
    assert model.steps == 2 and model.state.t == 2
    assert not np.array_equal(before, model.state.stance)


def test_agent_objects_are_optional(small_cfg):
    small_cfg.mesa_agents = "never"
    model = ResocializationModel(small_cfg)
    assert len(model.agents) == 0
    model.step()  # the step never needs them
    assert model.state.t == 1


def test_same_seed_same_trajectory_other_seed_differs(small_cfg):
    runs = []
    for seed in (3, 3, 4):
        small_cfg.seed = seed
        m = ResocializationModel(small_cfg)
        for _ in range(5):
            m.step()
        runs.append(m.state.stance.copy())
    assert np.array_equal(runs[0], runs[1]) and not np.array_equal(runs[0], runs[2])


def test_invalid_config_is_refused_with_the_key():
    cfg = Config()
    cfg.attention.withdrawal_rate = 1.5
    with pytest.raises(ConfigError, match=r"attention.withdrawal_rate=1.5; allowed: \[0.0, 1.0\]"):
        ResocializationModel(cfg)


def test_persistent_state_fits_the_memory_budget():
    """Issue target: under 64 bytes per agent plus 16 per tie (mean degree 20, default slack)."""
    from benchmarks.run import sbm_config
    from sim.core.initialize import initial_state

    cfg = sbm_config(20_000)
    state = initial_state(cfg, np.random.default_rng(0))
    per_agent, per_tie = state.bytes_per_agent_and_tie()
    assert 19 < state.ties.degree().mean() < 21
    assert per_agent < 64 and per_tie < 16, (per_agent, per_tie)


def test_ledger_counters_saturate_instead_of_wrapping():
    from sim.core.state import LEDGER_DTYPE, LEDGER_MAX, add_saturating
    from sim.step.compiled import bump

    c = np.array([LEDGER_MAX - 1, 5], dtype=LEDGER_DTYPE)
    add_saturating(c, np.array([3, 2]))
    assert c.tolist() == [LEDGER_MAX, 7]
    bump(c, 0)
    bump(c, 1)
    assert c.tolist() == [LEDGER_MAX, 8] and c.dtype == LEDGER_DTYPE
