"""A Config built by hand is checked as a composed one, and composing has one entry (issue 20 item 2).

`validate` refuses in one line what a run could not start with or would run wrongly: a value of another
type than its field's (at every key of the schema), a config group's option named in a section built by
hand (the option sets other keys, which only composition sets), an edge list's sizes given by hand. A
config it accepts runs. `sim.config.compose.compose` is the one entry to a composed config.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
import re
import typing
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim import ResocializationModel, compose
from sim.cli import to_config
from sim.config.compose import compose_dict, set_value
from sim.config.errors import ConfigError
from sim.config.params import (
    Config,
    DockingConfig,
    ExposureConfig,
    NetworkConfig,
    PresetConfig,
    ScenarioConfig,
    nullable,
    validate,
)
from sim.config.preflight import preflight
from sim.run.runner import run
from tests.support.sweeps import edge_list

ROOT = Path(__file__).resolve().parents[2]


def leaves(cls: typing.Any = Config, prefix: str = "") -> list[tuple[str, type, bool]]:
    """Every leaf key of the schema, nested sections included, with its declared type and whether it may be null."""
    out = []
    for f in dataclasses.fields(cls):
        kind, optional = nullable(typing.get_type_hints(cls)[f.name])
        if dataclasses.is_dataclass(kind):
            out += leaves(kind, f"{prefix}{f.name}.")
        else:
            out.append((f"{prefix}{f.name}", kind, optional))
    return out


#: values of another type than the field's: a bool is not a number, a float not an int, 10**400 no float
WRONG: dict[type, list[typing.Any]] = {
    int: [4.5, "60", True, None],
    float: ["0.5", True, None, 10**400],
    bool: [1, "true", None],
    str: [3, None, b"text"],
}


@pytest.mark.parametrize(("key", "kind", "optional"), leaves(), ids=[k for k, _, _ in leaves()])
def test_a_value_of_another_type_is_refused_in_one_line_at_every_key(key, kind, optional):
    for bad in WRONG[kind]:
        if bad is None and optional:
            continue
        cfg = Config()
        set_value(cfg, key, bad)
        with pytest.raises(ConfigError) as err:  # not a TypeError inside validate, nor later in the run
            validate(cfg)
        assert err.value.key == key and "\n" not in str(err.value), (key, bad)


def test_the_audits_configs_are_refused_before_the_run_writes_anything(tmp_path):
    for cfg, message in (
        (Config(steps=4.5), "steps=4.5; allowed: an integer >= 0"),  # was: TypeError in range() during the run
        (Config(seed=1.5), "seed=1.5; allowed: an integer in [0, "),  # was: SeedSequence's TypeError
        (Config(n_agents="60"), "n_agents='60'; allowed: an integer >= 2"),  # was: TypeError inside validate
        (Config(network=ExposureConfig()), "network=ExposureConfig(...); allowed: a NetworkConfig"),
        (Config(seed=np.int64(3)), "(a Python int: convert numpy's with int())"),  # was: TypeError in Mesa
    ):
        with pytest.raises(ConfigError) as err:
            run(cfg, tmp_path / "run")
        assert message in str(err.value)
    assert not [p for p in (tmp_path / "run").rglob("*") if p.is_file()]


def test_values_of_the_declared_types_are_accepted_and_run():
    """An int where a float is declared is a number (as on the command line), a null where allowed."""
    cfg = Config(
        n_agents=30,
        n_groups=3,
        steps=2,
        exposure=ExposureConfig(kind="shock", start=1, height=3, baseline=1),
        network=NetworkConfig(mean_degree=4, p_in=None),
    )
    model = ResocializationModel(cfg, collect=False)
    model.step()
    model.step()
    assert model.state.t == 2


GROUPS = [
    ("scenario", ScenarioConfig, "pandemic_shock"),
    ("preset", PresetConfig, "deffuant"),
    ("docking", DockingConfig, "deffuant"),
]


@pytest.mark.parametrize(("group", "section", "name"), GROUPS, ids=[g for g, _, _ in GROUPS])
def test_a_group_option_in_a_section_built_by_hand_is_refused_saying_how_to_compose_it(tmp_path, group, section, name):
    with pytest.raises(ConfigError) as err:  # it ran the defaults under the option's name
        run(Config(**{group: section(name=name)}), tmp_path)
    assert err.value.key == f"{group}.name" and "\n" not in str(err.value)
    assert f"sim.compose({group}={name!r})" in str(err.value)
    assert not list(tmp_path.iterdir())
    composed = compose(**{group: name})  # as the message says: what the option sets is set
    assert composed == compose([f"{group}={name}"]) and composed != Config(**{group: section(name=name)})
    # a composed config stays one through copies, pickling (sweep workers), replace and the command line's path
    for cfg in (
        composed,
        copy.deepcopy(composed),
        pickle.loads(pickle.dumps(composed)),
        dataclasses.replace(composed, seed=3),
        to_config(compose_dict([f"{group}={name}"])),
    ):
        validate(cfg)
    # composed, then the section replaced or renamed by hand: refused again
    replaced = dataclasses.replace(composed, **{group: section(name=name)})
    renamed = compose()
    getattr(renamed, group).name = name
    for cfg in (replaced, renamed):
        with pytest.raises(ConfigError, match=re.escape(f"sim.compose({group}={name!r})")):
            validate(cfg)


def test_a_scenario_label_of_ones_own_is_composed_too():
    with pytest.raises(ConfigError) as err:
        validate(Config(scenario=ScenarioConfig(name="my_study")))
    assert "sim.compose(**{'scenario.name': 'my_study'})" in str(err.value)
    assert validate(compose(**{"scenario.name": "my_study"})).scenario.name == "my_study"


def test_a_sweep_of_a_group_sections_name_passes_the_preflight():
    """The preflight sets a swept value on the composed config, as Hydra does: still a composed config."""
    preflight(["-m", "scenario.name=first,second", "steps=100,200", "hydra/launcher=basic"])


def test_an_edge_list_config_built_by_hand_takes_its_sizes_from_the_file(tmp_path):
    path = str(edge_list(tmp_path / "net.csv", 30))
    for sizes, key in (({"n_agents": 500}, "n_agents"), ({"n_groups": 3}, "n_groups")):
        with pytest.raises(ConfigError) as err:  # it ran the file's agents while cfg.n_agents said 500
            validate(Config(**sizes, network=NetworkConfig(kind="edgelist", path=path)))
        assert err.value.key == key and "the default" in err.value.allowed and "network.kind=edgelist" in str(err.value)
    model = ResocializationModel(Config(steps=1, network=NetworkConfig(kind="edgelist", path=path)), collect=False)
    assert model.state.n_agents == 30
    composed = compose(["network=edgelist", f"network.path={path}"])
    validate(copy.deepcopy(composed))
    composed.n_agents = 500
    with pytest.raises(ConfigError, match=r"n_agents=500; allowed: the composed value \(1000\)"):
        validate(composed)
    with pytest.raises(ConfigError, match="n_agents=500; allowed: no value with network.kind=edgelist"):
        compose(["network=edgelist", f"network.path={path}", "n_agents=500"])  # the command line's own rule
    # a graph handed to the model with a classic preset: its composed sizes are kept (n_groups 1)
    assert ResocializationModel(graph=nx.path_graph(12), preset="deffuant", seed=1, collect=False).cfg.n_groups == 1


#: code that calls compose_config (compose without the preflight) and says why next to the call
SKIPS_THE_PREFLIGHT = {"tests/integration/test_preflight_rules.py", "tests/integration/test_override_fuzz.py"}


def test_configs_are_composed_through_one_entry():
    """The app, the notebooks, the studies and the tests compose through `compose`, never through Hydra's own."""
    hydra_compose = re.compile(r"from hydra import[^\n]*\bcompose\b|\bhydra\.compose\(|initialize_config_dir")
    this = Path(__file__).relative_to(ROOT).as_posix()
    code = [*ROOT.glob("sim/**/*.py"), *ROOT.glob("tests/**/*.py"), *ROOT.glob("benchmarks/**/*.py")]
    code += ROOT.glob("experiments/**/*.ipynb")
    for path in code:
        rel = path.relative_to(ROOT).as_posix()
        if rel in ("sim/config/compose.py", this):
            continue
        text = path.read_text(encoding="utf-8")
        assert not hydra_compose.search(text), f"{rel} composes through Hydra itself: use sim.config.compose.compose"
        if re.search(r"\bcompose_config\b", text):
            assert rel in SKIPS_THE_PREFLIGHT, f"{rel} uses compose_config: use compose (or say why it skips it)"
    assert "compose_config" not in (ROOT / "docs" / "api.md").read_text()  # not listed as a second entry
