"""The Mesa side: real agents that read and write their row of the state arrays."""

import mesa
import numpy as np
import pytest

from sim.agents import Professional
from sim.errors import ConfigError
from sim.model import ResocializationModel
from sim.params import Config


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
