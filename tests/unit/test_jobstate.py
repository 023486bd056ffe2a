"""Hydra's per-job state keeps the process's plugin registry (sim.studies.jobstate), and is otherwise Hydra's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hydra.core.plugins import Plugins
from hydra.core.singleton import Singleton
from omegaconf.basecontainer import BaseContainer

from sim.studies import jobstate


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
    jobstate.install()
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
    jobstate.install()
    Singleton._instances.pop(Plugins, None)  # a fresh process: no registry yet
    Singleton.set_state(_job_state())
    assert isinstance(Plugins.instance(), Plugins)


def test_installing_twice_keeps_one_wrapper(hydra_state: None) -> None:
    jobstate.install()
    first = Singleton.set_state
    jobstate.install()
    assert Singleton.set_state is first
