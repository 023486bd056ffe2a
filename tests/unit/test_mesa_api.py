"""Mesa's own API as a Mesa user calls it (issue 20 items 1 and 2).

Keyword parameters, seed/rng, running, run_model, DataCollector and batch_run; and the one Python entry
that composes a config as the command line does.
"""

from __future__ import annotations

import dataclasses

import mesa
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim import ResocializationModel, compose
from sim.config.errors import ConfigError, InputError
from sim.metrics.population import METRICS
from sim.model.model import AGENT_REPORTERS

SMALL = {"n_agents": 80, "n_groups": 2, "steps": 6}


def test_keyword_parameters_compose_as_the_command_line_does():
    model = ResocializationModel(
        scenario="pandemic_shock", n_agents=120, influence={"rate": 0.25}, **{"exposure.height": 3.0}, seed=4
    )
    expected = compose(
        ["scenario=pandemic_shock", "n_agents=120", "influence.rate=0.25", "exposure.height=3.0", "seed=4"]
    )
    assert dataclasses.asdict(model.cfg) == dataclasses.asdict(expected)
    assert compose(["n_agents=120"], seed=4, scenario="pandemic_shock").exposure.kind == "shock"


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"n_agents": "abc"}, "n_agents"),
        ({"scenario": "nope"}, "scenario"),
        ({"influence.rate": 7.0}, "influence.rate"),
    ],
)
def test_a_bad_keyword_is_the_command_lines_one_line_error(params, key):
    with pytest.raises(InputError) as err:
        ResocializationModel(**params)
    assert key in str(err.value) and "\n" not in str(err.value)


def test_seed_and_rng_follow_mesa():
    from sim.config.params import Config

    assert ResocializationModel(Config(**SMALL), seed=7).cfg.seed == 7
    assert ResocializationModel(Config(**SMALL), rng=np.int64(9)).cfg.seed == 9
    drawn = ResocializationModel(Config(**SMALL), seed=None).cfg.seed  # a fresh seed, recorded
    assert isinstance(drawn, int) and drawn != ResocializationModel(Config(**SMALL), seed=None).cfg.seed
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    same = [ResocializationModel(Config(**SMALL), rng=g).cfg.seed for g in (g1, g2)]
    assert same[0] == same[1]
    with pytest.raises(ConfigError, match="seed"):
        ResocializationModel(Config(**SMALL), seed=-1)
    with pytest.raises(ConfigError, match="not both"):
        ResocializationModel(Config(**SMALL), n_agents=50)


def test_run_model_stops_at_the_configured_steps():
    model = ResocializationModel(**SMALL, seed=1)
    assert model.running
    model.run_model()
    assert not model.running and model.state.t == 6 and model.steps == 6


def test_run_model_stops_when_a_classic_converges():
    model = ResocializationModel(
        preset="deffuant", n_agents=60, steps=100_000, stop_at_convergence=True, **{"preset.d": 1.0, "preset.mu": 0.5}
    )
    model.run_model()
    assert model.converged and model.state.t < 100_000


def test_the_datacollector_reads_the_models_own_metrics(tmp_path):
    """Its model reporters are metrics.parquet's whole-population metrics at every step, value for value."""
    from sim.run.runner import run

    model = ResocializationModel(**SMALL, seed=2)
    model.run_model()
    got = model.datacollector.get_model_vars_dataframe()
    assert list(got.columns) == list(METRICS) and len(got) == 7  # step 0 and six steps
    cfg = dataclasses.replace(model.cfg)
    cfg.output.progress, cfg.output.figure = "off", False
    cfg.metrics.every = 1
    run(cfg, tmp_path)
    m = pq.read_table(tmp_path / "metrics.parquet").to_pandas()
    m = m[m["scope"] == "all"].astype({"metric": str})
    m = m.pivot_table(index="step", columns="metric", values="value", dropna=False)
    pd.testing.assert_frame_equal(
        got[list(METRICS)].reset_index(drop=True), m[list(METRICS)].reset_index(drop=True), check_names=False
    )


def test_agent_records_are_those_of_mesas_own_datacollector():
    model = ResocializationModel(**SMALL, seed=3)
    plain = mesa.DataCollector(agent_reporters={a: a for a in AGENT_REPORTERS})
    plain.collect(model)
    for _ in range(3):
        model.step()
        plain.collect(model)
    ours = model.datacollector.get_agent_vars_dataframe()
    mesas = plain.get_agent_vars_dataframe()
    pd.testing.assert_frame_equal(ours.loc[mesas.index], mesas)
    assert set(ours.columns) == set(AGENT_REPORTERS)
    assert ours.loc[(3, 1), "profession"] in ("social_work", "health_care")


def test_batch_run_runs_a_grid_and_returns_mesas_records():
    results = mesa.batch_run(
        ResocializationModel,
        parameters={"n_agents": [60, 90], "steps": 4, "influence.rate": [0.1, 0.3]},
        rng=[0, 1],
        data_collection_period=-1,
        number_processes=1,
        display_progress=False,
    )
    runs = {(r["RunId"], r["n_agents"]) for r in results}
    assert len(runs) == 8 and {r["Step"] for r in results} == {4}
    assert {"esteban_ray", "stance", "AgentID", "influence.rate", "seed"} <= set(results[0])
    assert len([r for r in results if r["RunId"] == 0]) == results[0]["n_agents"]  # one row per agent
    by = pd.DataFrame(results).groupby(["RunId", "seed", "n_agents", "influence.rate"])["esteban_ray"].first()
    assert by.xs(0, level="seed").values.tolist() != by.xs(1, level="seed").values.tolist()


def test_collect_can_be_switched_off_and_large_models_collect_no_agents():
    assert ResocializationModel(**SMALL, collect=False).datacollector is None
    big = ResocializationModel(n_agents=300, steps=2, mesa_agents="never", collect=True)
    big.step()
    assert len(big.datacollector.get_model_vars_dataframe()) == 2 and not big.datacollector.agent_reporters
    with pytest.raises(ConfigError, match="collect"):
        ResocializationModel(**SMALL, collect="yes")


def test_a_config_with_a_group_given_as_a_bare_name_is_refused_in_one_line(tmp_path):
    from sim.config.params import Config
    from sim.run.runner import run

    for key in ("scenario", "preset", "network"):
        with pytest.raises(ConfigError) as err:
            ResocializationModel(Config(**{key: "pandemic_shock"}))
        assert f"compose({key}=" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="scenario"):
        run(Config(scenario="pandemic_shock"), tmp_path)  # not an AttributeError after validation
    assert not list(tmp_path.iterdir())
