"""What Hydra does before each job, faster (sim.studies.jobstate): the same state, the same `.hydra/` files."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hydra.core.utils as hydra_utils
import pytest
from hydra.core.plugins import Plugins
from hydra.core.singleton import Singleton
from hydra.types import RunMode
from omegaconf import OmegaConf
from omegaconf.basecontainer import BaseContainer

from sim.studies import jobconfig, jobstate
from tests.unit.test_jobconfig import HYDRA_OVERRIDES, JOBS, loader  # noqa: F401  (loader: a fixture)


@pytest.fixture
def hydra_state() -> Iterator[None]:
    """Hydra's state and its own set_state for the test (another test may have imported sim.cli, which installs)."""
    instances, resolvers, set_state = dict(Singleton._instances), dict(BaseContainer._resolvers), Singleton.set_state
    Singleton.set_state = staticmethod(getattr(set_state, "__wrapped__", set_state))  # type: ignore[method-assign]
    yield
    Singleton._instances, BaseContainer._resolvers = instances, resolvers
    Singleton.set_state = staticmethod(set_state)  # type: ignore[method-assign,assignment]


def _job_state() -> dict:
    """What a launcher hands a job: Hydra's state without the plugin registry (it does not pickle)."""
    state = Singleton.get_state()
    assert Plugins not in state["instances"]
    return state


def test_a_job_keeps_the_registry_and_gets_the_rest_of_its_state(hydra_state: None) -> None:
    jobstate._keep_plugins()
    registry = Plugins.instance()
    state = _job_state()
    state["omegaconf_resolvers"]["sim_test_resolver"] = lambda: 1
    Singleton.set_state(state)
    assert Plugins.instance() is registry  # not discovered again
    assert Singleton._instances is state["instances"]  # the job's own singletons, as Hydra sets them
    assert "sim_test_resolver" in BaseContainer._resolvers


def test_hydras_own_function_discovers_the_plugins_for_every_job(hydra_state: None) -> None:
    """What install() changes: without it, each job's set_state builds a new registry."""
    registry = Plugins.instance()
    Singleton.set_state(_job_state())
    assert Plugins.instance() is not registry


def test_a_first_job_still_discovers_them(hydra_state: None) -> None:
    jobstate._keep_plugins()
    Singleton._instances.pop(Plugins, None)  # a fresh process: no registry yet
    Singleton.set_state(_job_state())
    assert isinstance(Plugins.instance(), Plugins)


def test_installing_twice_keeps_one_wrapper(hydra_state: None) -> None:
    saved = hydra_utils._save_config
    try:
        jobstate.install()
        first, save = Singleton.set_state, hydra_utils._save_config
        jobstate.install()
        assert Singleton.set_state is first and hydra_utils._save_config is save
        assert getattr(save, "__wrapped__", None) is not None  # Hydra's own kept behind it
    finally:
        hydra_utils._save_config = saved


@pytest.mark.parametrize("hydra_overrides", HYDRA_OVERRIDES)
def test_the_hydra_files_of_every_kind_of_job_are_hydras_bytes(
    loader: Any,  # noqa: F811
    hydra_overrides: list[str],
    tmp_path: Path,
) -> None:
    """The three files run_job writes, from libyaml's emitter and from OmegaConf's, byte for byte."""
    assert jobstate._dumper() is not None  # PyYAML's wheels carry libyaml
    hydras = getattr(hydra_utils._save_config, "__wrapped__", hydra_utils._save_config)
    jobstate._save_with_libyaml()
    fast = hydra_utils._save_config
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        master = loader.load_configuration("config", hydra_overrides, run_mode=RunMode.MULTIRUN)
        for k, job in enumerate(JOBS):
            cfg = jobconfig.from_templates(loader, master, job)
            task = OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"])
            files = {
                "config.yaml": task,
                "hydra.yaml": OmegaConf.masked_copy(cfg, "hydra"),
                "overrides.yaml": cfg.hydra.overrides.task,
            }
            for name, part in files.items():
                assert jobstate.to_yaml(part) == OmegaConf.to_yaml(part), (job, name)
                hydras(part, name, tmp_path / f"own{k}")
                fast(part, name, tmp_path / f"fast{k}")
                assert (tmp_path / f"fast{k}" / name).read_bytes() == (tmp_path / f"own{k}" / name).read_bytes()


def test_text_that_needs_quoting_or_folding_is_written_as_omegaconf_writes_it() -> None:
    cfg = OmegaConf.create(
        {
            "looks_like_numbers": ["1", "1.5", "1e3", "0x1F", "null", "true", "~", "", " "],
            "unicode": "Ärztin, travailleuse sociale, 社会工作者",
            "special": "a: b # c",
            "multiline": "first line\nsecond line\n",
            "long": "word " * 40,
            "interpolation": "${unicode}",
            "nested": {"list": [1, 2.5, None, True, {"k": "v"}], "empty": {}, "empty_list": []},
        }
    )
    assert jobstate.to_yaml(cfg) == OmegaConf.to_yaml(cfg)
