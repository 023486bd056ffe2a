"""Names of sweep and run directories, and the outputs root (sim/studies/naming.py, docs/sweeps.md)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.studies import naming
from sim.studies.naming import (
    HASH_LEN,
    MAX_SLUG,
    dir_name,
    outputs_root,
    read_overrides,
    run_dirname,
    sweep_name_of,
    write_overrides,
)

ROOT = Path(__file__).resolve().parents[2]
SHELL_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # nothing to quote; not an option, not hidden

overrides = st.lists(
    st.builds(
        lambda k, v: f"{k}={v}",
        st.from_regex(r"[+~]?k[a-z_]{0,7}(\.[a-z_]{1,8})?", fullmatch=True),  # never hydra...: those name nothing
        st.text(min_size=0, max_size=30),
    ),
    min_size=1,
    max_size=6,
)


def test_sweep_and_run_names_are_readable_sorted_and_hashed():
    a = sweep_name_of(["seed=range(3)", "scenario=baseline,pandemic_shock", "hydra/launcher=ray"])
    b = sweep_name_of(["scenario=baseline,pandemic_shock", "hydra.launcher.n_jobs=2", "seed=range(3)"])
    assert a == b  # sorted, hydra... left out: the same sweep on another launcher resumes in place
    slug, _, digest = a.rpartition("__")
    assert slug == "scenario-baseline_pandemic_shock__seed-range-3"
    assert re.fullmatch(rf"[0-9a-f]{{{HASH_LEN}}}", digest)
    assert sweep_name_of([]) == "default" and run_dirname("") == "run"
    run = run_dirname("influence.rate=0.1__seed=2")
    assert run.startswith("influence.rate-0.1__seed-2__") and SHELL_SAFE.fullmatch(run)


def test_the_users_complaint_names_need_no_quoting():
    # the old names held , ( = and needed quoting in a shell
    name = sweep_name_of(["attention.capacity=5,10,20", "scenario=baseline,pandemic_shock", "seed=range(20)"])
    assert SHELL_SAFE.fullmatch(name), name
    assert not set(",()=[] '\"$*?;&|<>") & set(name)
    odd = run_dirname("network.path=/data/my net.csv")
    assert SHELL_SAFE.fullmatch(odd) and odd != run_dirname("network.path=/data/my_net.csv")


@settings(max_examples=300, deadline=None)
@given(overrides, overrides)
def test_names_are_shell_safe_and_differ_for_different_overrides(a, b):
    na, nb = sweep_name_of(a), sweep_name_of(b)
    for name in (na, nb, run_dirname("__".join(a))):
        assert SHELL_SAFE.fullmatch(name), name
        assert len(name) <= MAX_SLUG + 2 + HASH_LEN
    if sorted(a) != sorted(b):
        assert na != nb  # the hash of the exact overrides: slugs may coincide, names do not
    else:
        assert na == nb


def test_slugs_that_coincide_get_different_hashes():
    a, b = dir_name("x=a,b", "e"), dir_name("x=a_b", "e")  # both slug to x-a_b
    assert a.rpartition("__")[0] == b.rpartition("__")[0] == "x-a_b" and a != b
    long1, long2 = dir_name("k=" + "v" * 300, "e"), dir_name("k=" + "v" * 299, "e")
    assert long1.rpartition("__")[0] == long2.rpartition("__")[0] and long1 != long2


def test_overrides_file_holds_the_exact_overrides(tmp_path):
    given_ = ["scenario=baseline,pandemic_shock", "seed=range(3)", "network.path=/a b/c=d.csv", 'x="q"']
    path = write_overrides(tmp_path / "sweep", given_, hydra=["hydra/launcher=basic"])
    assert path == tmp_path / "sweep" / "overrides.yaml"
    assert read_overrides(tmp_path / "sweep") == given_
    import yaml

    data = yaml.safe_load(path.read_text())
    assert data == {"overrides": given_, "hydra": ["hydra/launcher=basic"]}
    assert read_overrides(tmp_path / "nothing") == []


def test_outputs_root_is_the_projects_wherever_the_command_starts(tmp_path, monkeypatch):
    monkeypatch.delenv("SIM_OUTPUTS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert outputs_root() == ROOT / "outputs"
    assert naming._sweep_dir("multirun").startswith(str(ROOT / "outputs" / "multirun") + os.sep)
    monkeypatch.setenv("SIM_OUTPUTS", str(tmp_path / "elsewhere"))
    assert outputs_root() == tmp_path / "elsewhere"
    monkeypatch.setenv("SIM_OUTPUTS", "rel/out")  # relative: from the working directory
    assert outputs_root() == tmp_path / "rel" / "out"
    monkeypatch.delenv("SIM_OUTPUTS")
    monkeypatch.setattr(naming, "PROJECT_ROOT", tmp_path / "site-packages")  # installed away from a checkout
    assert outputs_root() == tmp_path / "outputs"


def test_run_and_sweep_dirs_of_the_composed_config_are_under_the_outputs_root(tmp_path, monkeypatch):
    from omegaconf import OmegaConf

    from sim.config.compose import compose_dict

    naming.register_resolvers()
    monkeypatch.delenv("SIM_OUTPUTS", raising=False)
    monkeypatch.chdir(tmp_path)
    cfg = compose_dict(["seed=3"], return_hydra_config=True)  # Hydra's own keys (run and sweep dirs): no Config
    run_dir = str(OmegaConf.select(cfg, "hydra.run.dir"))
    assert run_dir.startswith(str(ROOT / "outputs" / "runs") + os.sep) and run_dir.endswith("_baseline_seed3")
    assert str(OmegaConf.select(cfg, "hydra.sweep.dir")).startswith(str(ROOT / "outputs" / "multirun") + os.sep)
    assert OmegaConf.select(cfg, "hydra.job.config.override_dirname.item_sep") == "__"


def test_unwritable_says_why_and_leaves_nothing(tmp_path):
    from sim.studies.naming import unwritable

    assert unwritable(tmp_path) is None  # an existing, writable directory
    assert unwritable(tmp_path / "new" / "deeper") is None  # made in its nearest existing ancestor
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert unwritable(afile) == f"{afile} is not a directory"
    assert unwritable(afile / "sub" / "dir") == f"{afile} is not a directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # the probes were removed
