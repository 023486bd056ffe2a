"""`sim.cli.mode_from_flags`: Hydra reads the run's mode from -m without composing the config once more for it.

That is right only while the project's config leaves `hydra.mode` unset in every option of every config
group (and in every experiment), as Hydra then takes the mode from the flags itself; these tests compose
each of them as Hydra's `get_mode` does, and check which command lines keep Hydra's own way.
"""

from __future__ import annotations

import pytest
from hydra._internal.hydra import Hydra

from sim import cli
from sim.config.compose import CONF_DIR, compose_dict

GROUPS = sorted(p.name for p in CONF_DIR.iterdir() if p.is_dir() and p.name not in ("hydra", "experiment"))
OPTIONS = [f"{g}={p.stem}" for g in GROUPS for p in sorted((CONF_DIR / g).glob("*.yaml"))]
EXPERIMENTS = [f"+experiment={p.stem}" for p in sorted((CONF_DIR / "experiment").glob("*.yaml"))]
LAUNCHERS = [f"hydra/launcher={p.stem}" for p in sorted((CONF_DIR / "hydra" / "launcher").glob("*.yaml"))]


def test_there_are_options_and_experiments_to_check():
    assert len(GROUPS) >= 5 and len(OPTIONS) >= 15 and len(EXPERIMENTS) >= 5 and len(LAUNCHERS) >= 3


@pytest.mark.parametrize("override", [None, *OPTIONS, *EXPERIMENTS, *LAUNCHERS])
def test_no_option_of_the_config_sets_hydras_mode(override):
    cfg = compose_dict([] if override is None else [override], return_hydra_config=True)
    assert cfg.hydra.mode is None, f"{override} sets hydra.mode: mode_from_flags would ignore it"


@pytest.mark.parametrize(
    ("argv", "installed"),
    [
        ([], True),
        (["n_agents=60", "scenario=pandemic_shock"], True),
        (["-m", "seed=0,1", "+experiment=ablation"], True),
        (["hydra.mode=MULTIRUN", "n_agents=60"], False),
        (["++hydra.mode=RUN"], False),
        (["-cd", "/elsewhere"], False),
        (["--config-dir=/elsewhere"], False),
        (["-cn", "other"], False),
        (["hydra.searchpath=[file:///elsewhere]"], False),
    ],
)
def test_the_flags_decide_unless_the_command_line_may_set_the_mode(monkeypatch, argv, installed):
    monkeypatch.setattr(Hydra, "get_mode", Hydra.get_mode)  # restored after the test
    before = Hydra.get_mode
    assert cli.mode_from_flags(argv) is installed
    if installed:
        assert Hydra.get_mode is not before and Hydra.get_mode(object(), "config", argv) is None
    else:
        assert Hydra.get_mode is before
