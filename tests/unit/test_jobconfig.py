"""A sweep job's config from a kept template (sim.studies.jobconfig) is the config Hydra composes, node for node."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.config.compose import composing, register_schema
from sim.studies import jobconfig
from sim.studies.naming import register_resolvers

register_schema()
register_resolvers()

# the kinds of overrides a sweep's jobs carry: values, values inside a chosen group, config groups, added,
# forced and deleted keys, null, lists, quoted text, an interpolation, an experiment with its own sweeps
JOBS = [
    ["seed=3"],
    ["n_agents=500", "seed=0"],
    ["seed=7", "n_agents=500"],  # the same values in another order: the task list keeps the order
    ["network=small_world", "seed=1"],
    ["network=small_world", "network.mean_degree=6", "seed=2"],
    ["network.p_in=null", "network.p_out=null", "network.mean_degree=8"],
    ["ablation=no_peer", "seed=2"],
    ["preset=deffuant", "seed=4"],
    ["+experiment=forums", "seed=5"],
    ["++steps=5", "seed=1"],
    ["exposure=shock", "exposure.start=20"],
    ["scenario=pandemic_shock", "seed=9"],
    ["seed=${n_groups}"],
    ["output.figure=false", "metrics.every=5"],
    ["scenario.name='a, quoted name'"],
]
HYDRA_OVERRIDES = [[], ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5", "hydra.sweep.dir=/tmp/x"]]


@pytest.fixture(scope="module")
def loader() -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with composing():  # the project's one entry to Hydra's composition (sim.config.compose)
            yield GlobalHydra.instance().config_loader()


def _master(loader: Any, hydra_overrides: list[str]) -> DictConfig:
    return loader.load_configuration("config", hydra_overrides, run_mode=RunMode.MULTIRUN)


def _hydra_own() -> Any:
    jobconfig.install()
    return ConfigLoaderImpl.load_sweep_config.hydra_own  # type: ignore[attr-defined]


def _flags(cfg: DictConfig) -> list[Any]:
    return [OmegaConf.is_struct(cfg), OmegaConf.is_readonly(cfg), OmegaConf.is_readonly(cfg.hydra)]


@pytest.mark.parametrize("hydra_overrides", HYDRA_OVERRIDES)
def test_every_kind_of_job_gets_hydras_own_config(loader: Any, hydra_overrides: list[str]) -> None:
    own = _hydra_own()
    jobconfig._templates.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        master = _master(loader, hydra_overrides)
        for job in JOBS + JOBS[:3]:  # the last three again, from the kept templates
            expected = own(loader, master, job)
            got = jobconfig.from_templates(loader, master, job)
            assert OmegaConf.to_yaml(got) == OmegaConf.to_yaml(expected), job
            assert _flags(got) == _flags(expected), job
            assert OmegaConf.to_yaml(got, resolve=False) == OmegaConf.to_yaml(expected, resolve=False), job
            # what run_job resolves: the job's own directory and its name
            assert got.hydra.sweep.subdir == expected.hydra.sweep.subdir, job
    assert len(jobconfig._templates) < len(JOBS)  # jobs differing only in values shared a template
    assert all(isinstance(t, bytes) for t in jobconfig._templates.values())  # kept pickled (jobconfig._kept)


def test_a_template_that_does_not_pickle_is_kept_as_it_is() -> None:
    unpicklable = {"f": lambda: 1}
    assert jobconfig._kept(unpicklable) is unpicklable
    assert isinstance(jobconfig._kept({"a": 1}), bytes)


def test_a_job_hydra_refuses_is_refused_as_before(loader: Any) -> None:
    jobconfig.install()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        master = _master(loader, [])
        for job in (["no_such_key=1"], ["network=no_such_network"], ["~no_such_key"]):
            with pytest.raises(ConfigCompositionException) as own:
                _hydra_own()(loader, master, job)
            with pytest.raises(ConfigCompositionException) as installed:
                ConfigLoaderImpl.load_sweep_config(loader, master, job)
            assert str(installed.value) == str(own.value)


def test_a_worker_handed_the_sweeps_template_composes_nothing(loader: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    own = _hydra_own()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        master = _master(loader, [])
        expected = own(loader, master, ["seed=5", "n_agents=500"])
        jobconfig._templates.clear()
        kept = jobconfig.template_for(loader, master, ["seed=3"])  # in the sweep's process
        assert kept is not None and isinstance(kept[1], bytes) and jobconfig._templates[kept[0]] is kept[1]
        assert jobconfig.template_for(loader, master, ["seed=4"]) == kept  # composed once
        jobconfig._templates.clear()  # a worker: nothing composed yet
        jobconfig.seed(kept)

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("composed again")

        monkeypatch.setattr(loader, "load_configuration", refuse)
        got = jobconfig.from_templates(loader, master, ["seed=5", "n_agents=500"])
    assert OmegaConf.to_yaml(got, resolve=False) == OmegaConf.to_yaml(expected, resolve=False)
    assert _flags(got) == _flags(expected)


def test_a_job_whose_template_hydra_refuses_gets_none(loader: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        master = _master(loader, [])
        assert jobconfig.template_for(loader, master, ["network=no_such_network"]) is None
        # a plain value is applied to the template in the job, where Hydra's error is met (as before)
        assert jobconfig.template_for(loader, master, ["no_such_key=1"]) == jobconfig.template_for(loader, master, [])


def test_installing_twice_keeps_one_wrapper() -> None:
    jobconfig.install()
    first = ConfigLoaderImpl.load_sweep_config
    jobconfig.install()
    assert ConfigLoaderImpl.load_sweep_config is first
    assert not getattr(first.hydra_own, jobconfig._MARK, False)  # type: ignore[attr-defined]
