"""What Hydra does before each job, faster (sim.studies.jobstate): the same state, the same `.hydra/` files."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hydra.core.utils as hydra_utils
import pytest
from hydra.core.hydra_config import HydraConfig
from hydra.core.plugins import Plugins
from hydra.core.singleton import Singleton
from hydra.types import RunMode
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict, read_write
from omegaconf.base import Node
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
    saved = hydra_utils._save_config, hydra_utils.copy, HydraConfig.set_config
    try:
        jobstate.install()
        first, save, copier, set_config = (
            Singleton.set_state,
            hydra_utils._save_config,
            hydra_utils.copy,
            HydraConfig.set_config,
        )
        jobstate.install()
        assert Singleton.set_state is first and hydra_utils._save_config is save
        assert hydra_utils.copy is copier and HydraConfig.set_config is set_config
        assert getattr(save, "__wrapped__", None) is not None  # Hydra's own kept behind it
        assert getattr(set_config, "__wrapped__", None) is not None
        assert copier.copy is copy.copy and isinstance(copier, jobstate._PickleCopy)
    finally:
        hydra_utils._save_config, hydra_utils.copy, HydraConfig.set_config = saved  # type: ignore[method-assign]


def _job_configs(composer: Any, hydra_overrides: list[str]) -> Iterator[tuple[list[str], DictConfig]]:
    """(overrides, config) of every kind of job in `JOBS`, as the sweep's jobs get them (jobconfig's templates)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        master = composer.load_configuration("config", hydra_overrides, run_mode=RunMode.MULTIRUN)
        for job in JOBS:
            yield job, jobconfig.from_templates(composer, master, job)


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
    for k, (job, cfg) in enumerate(_job_configs(loader, hydra_overrides)):
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


_METADATA = (
    *("ref_type", "object_type", "optional", "key", "flags", "flags_root", "key_type", "element_type"),
    "resolver_cache",
)


def _same_parent(x: Node, a: Node, y: Node, b: Node) -> bool:
    """Each child's parent is its own tree's node, or else the same node (HydraConfig's child: the job's config)."""
    px, py = x._get_parent(), y._get_parent()
    return (px is a and py is b) or (px is not a and px is py)


def _differences(a: Node, b: Node, path: str = "") -> list[tuple[str, str]]:
    """Where two OmegaConf trees differ: type, metadata, value, or a parent that is not the copy's own."""
    out = []
    if type(a) is not type(b):
        return [(path, "type")]
    out += [(path, f) for f in _METADATA if getattr(a._metadata, f, None) != getattr(b._metadata, f, None)]
    ca, cb = a.__dict__.get("_content", a.__dict__.get("_val")), b.__dict__.get("_content", b.__dict__.get("_val"))
    if isinstance(a, DictConfig) and isinstance(ca, dict):
        if list(ca) != list(cb):
            return [*out, (path, "keys")]
        for key in ca:
            if not _same_parent(ca[key], a, cb[key], b):
                out.append((f"{path}.{key}", "parent"))
            out += _differences(ca[key], cb[key], f"{path}.{key}")
    elif isinstance(a, ListConfig) and isinstance(ca, list):
        if len(ca) != len(cb):
            return [*out, (path, "length")]
        for i, (x, y) in enumerate(zip(ca, cb, strict=True)):
            if not _same_parent(x, a, y, b):
                out.append((f"{path}[{i}]", "parent"))
            out += _differences(x, y, f"{path}[{i}]")
    elif ca != cb or type(ca) is not type(cb):
        out.append((path, "value"))
    return out


def _set_output_dir(cfg: DictConfig, path: str = "/sweep/job") -> None:
    with read_write(cfg.hydra.runtime), open_dict(cfg.hydra.runtime):
        cfg.hydra.runtime.output_dir = path


@pytest.mark.parametrize("hydra_overrides", HYDRA_OVERRIDES)
def test_the_pickled_copy_of_every_kind_of_job_config_is_its_deep_copy(
    loader: Any,  # noqa: F811
    hydra_overrides: list[str],
) -> None:
    """fast_copy against copy.deepcopy, node for node: metadata, values, parent links; and independent."""
    for job, cfg in _job_configs(loader, hydra_overrides):
        _set_output_dir(cfg)  # as run_job does before anything resolves
        resolved = OmegaConf.to_yaml(cfg, resolve=True)  # fills the resolvers' cache (${now:...}) the copies keep
        before = OmegaConf.to_yaml(cfg)
        deep, fast = copy.deepcopy(cfg), jobstate.fast_copy(cfg)
        assert _differences(deep, fast) == [], job
        assert fast._get_parent() is deep._get_parent() is cfg._get_parent()
        assert _differences(cfg, deep) == []  # the original's parent links are back as they were
        assert OmegaConf.to_yaml(fast, resolve=True) == OmegaConf.to_yaml(deep, resolve=True) == resolved, job
        _set_output_dir(fast, "/elsewhere")
        fast.seed = -1
        assert OmegaConf.to_yaml(cfg) == before, job  # the copy is its own
        # a node of the config (its parent kept, as copy.deepcopy keeps it)
        deep_node, fast_node = copy.deepcopy(cfg.hydra), jobstate.fast_copy(cfg.hydra)
        assert _differences(deep_node, fast_node) == [] and fast_node._get_parent() is cfg, job


@pytest.mark.parametrize("hydra_overrides", HYDRA_OVERRIDES)
def test_hydras_config_of_every_kind_of_job_is_the_same(
    loader: Any,  # noqa: F811
    hydra_overrides: list[str],
    hydra_state: None,
) -> None:
    """HydraConfig.set_config with the pickled copies against Hydra's own; and run_job's copy of its result."""
    own = getattr(HydraConfig.set_config, "__wrapped__", HydraConfig.set_config)
    for job, cfg in _job_configs(loader, hydra_overrides):
        _set_output_dir(cfg)
        OmegaConf.to_yaml(cfg, resolve=True)  # ${now:...} resolved once, as in a job
        assert _differences(OmegaConf.masked_copy(cfg, "hydra"), jobstate.masked_hydra(cfg)) == [], job
        hydras, ours = HydraConfig(), HydraConfig()
        own(hydras, cfg)
        saved = HydraConfig.set_config
        try:
            jobstate._copy_configs_by_pickle()
            HydraConfig.set_config(ours, cfg)
        finally:
            HydraConfig.set_config = saved  # type: ignore[method-assign]
        assert _differences(hydras.cfg, ours.cfg) == [], job
        assert ours.cfg.hydra._get_parent() is cfg  # interpolations into the job's config resolve
        assert OmegaConf.to_yaml(ours.cfg, resolve=True) == OmegaConf.to_yaml(hydras.cfg, resolve=True), job
        # run_job's copy of it (its child's parent is the job's config, not the copied root)
        assert _differences(copy.deepcopy(hydras.cfg), jobstate.fast_copy(ours.cfg)) == [], job
        assert ours.cfg.hydra._get_parent() is cfg  # put back


def test_what_is_not_a_config_of_nodes_is_copied_as_before() -> None:
    for value in (OmegaConf.create({"a": [1, {"b": 2}]}).a, OmegaConf.create({"a": None}), [1, {"x": 2}], {"y": [3]}):
        got = jobstate.fast_copy(value)
        assert got == value and got is not value
    assert jobstate.fast_copy(DictConfig(content="???"))._is_missing()
    assert jobstate._PickleCopy(copy).deepcopy({"k": [1]}, {}) == {"k": [1]}  # with a memo: copy.deepcopy


def test_a_config_that_does_not_pickle_is_deep_copied() -> None:
    """A structured config whose class pickle cannot find by name (here a local class): copy.deepcopy's copy."""

    @dataclasses.dataclass
    class Queue:
        timeout_min: int = 5
        partition: str | None = None

    cfg = OmegaConf.create({"hydra": {"launcher": OmegaConf.structured(Queue)}, "seed": 1})
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(cfg)
    got = jobstate.fast_copy(cfg)
    assert _differences(copy.deepcopy(cfg), got) == []
    assert OmegaConf.get_type(got.hydra.launcher) is Queue
    assert all(node._get_parent() is cfg for node in cfg.__dict__["_content"].values())  # put back
