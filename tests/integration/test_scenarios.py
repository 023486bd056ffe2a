"""Every scenario config composes through the CLI's own path and runs; interventions change what they claim."""

from pathlib import Path

import pytest

from sim.config.compose import CONF_DIR, compose
from sim.model import ResocializationModel

SCENARIOS = sorted(p.stem for p in (Path(CONF_DIR) / "scenario").glob("*.yaml"))


def scenario_config(name: str, *overrides: str):
    return compose([f"scenario={name}", *overrides])  # the documented entry: the command line's composition


def test_the_brief_scenarios_exist():
    assert {
        "baseline",
        "pandemic_shock",
        "shock_recovery",
        "social_work_vs_health_care",
        "literacy_training",
        "capped_hyperconnectivity",
        "porous_forums",
        "sealed_forums",
    } <= set(SCENARIOS)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_composes_documents_itself_and_runs(name):
    cfg = scenario_config(name, "n_agents=120", "n_groups=4")
    assert cfg.scenario.name == name and len(cfg.scenario.description) > 80
    assert name in (Path(CONF_DIR).parent / "docs" / "scenarios.md").read_text()
    model = ResocializationModel(cfg)
    for _ in range(3):
        model.step()
    assert model.state.t == 3


def test_scenarios_set_what_they_claim():
    base = scenario_config("baseline")
    shock = scenario_config("pandemic_shock")
    assert base.exposure.kind == "constant" and shock.exposure.kind == "shock"
    assert scenario_config("shock_recovery").exposure.relaxation > 0
    assert scenario_config("social_work_vs_health_care").professions.segregation == 1.0
    trained = scenario_config("literacy_training").professions
    assert trained.social_work.literacy.mean > shock.professions.social_work.literacy.mean
    assert trained.health_care.literacy.mean > shock.professions.health_care.literacy.mean
    capped = scenario_config("capped_hyperconnectivity")
    assert capped.exposure == shock.exposure and 0 < capped.messages.cap and shock.messages.cap == 0
    assert scenario_config("sealed_forums").messages.porosity == 0.0
    assert scenario_config("porous_forums").messages.porosity > base.messages.porosity
    # a scenario is an override of the defaults, and the command line still wins over it
    assert scenario_config("pandemic_shock", "exposure.height=5").exposure.height == 5.0


def test_the_cap_removes_the_overload_of_the_surge():
    """During the surge the capped scenario overloads far fewer agents than the uncapped one."""
    overloaded = {}
    for name in ("pandemic_shock", "capped_hyperconnectivity"):
        cfg = scenario_config(name, "n_agents=400", "n_groups=4", "exposure.start=5", "exposure.length=10")
        model = ResocializationModel(cfg)
        shares = []
        for _ in range(14):
            model.step()
            shares.append(model.state.overloaded.mean())
        overloaded[name] = max(shares[5:])
    assert overloaded["pandemic_shock"] > 0.3
    assert overloaded["capped_hyperconnectivity"] < overloaded["pandemic_shock"] / 3
