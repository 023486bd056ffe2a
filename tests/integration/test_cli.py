"""The command line end to end: default run, overrides, bad input, outputs, determinism."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.metrics.population import METRICS
from tests.support.cli import cli

ROOT = Path(__file__).resolve().parents[2]
FILES = ("metrics.parquet", "agents.parquet", "edges.parquet", "events.parquet", "summary.json", "figure.png")


def run_cli(tmp_path, *args, check=True, env=None):
    out = tmp_path / "run"
    env = {**os.environ, "HYDRA_FULL_ERROR": "0", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *args, f"hydra.run.dir={out}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc, out


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    return run_cli(tmp_path_factory.mktemp("default"))


def test_default_run_prints_a_summary_and_writes_every_output(default_run):
    proc, out = default_run
    assert "mean stance" in proc.stdout and f"outputs: {out}" in proc.stdout
    for name in FILES:
        assert (out / name).stat().st_size > 0, name
    assert (out / ".hydra" / "config.yaml").exists()
    assert not list(out.glob(".*.tmp"))  # no temporary files left behind
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_agents"] == 1000 and summary["n_groups"] == 10 and summary["steps"] == 200
    assert summary["scenario"] == "baseline" and summary["preset"] == "full"
    assert set(summary["versions"]) >= {"mesa", "numpy", "python", "sim"}
    assert 0 <= summary["final"]["stance_mean"] <= 1


def test_metrics_are_tidy_with_every_scope_step_and_metric(default_run):
    _, out = default_run
    m = pd.read_parquet(out / "metrics.parquet")
    assert list(m.columns) == ["step", "scope", "level", "metric", "value"]
    assert set(m["scope"].astype(str)) == {"all", "group", "profession"}
    assert sorted(m["step"].unique()) == list(range(201))
    assert set(m["metric"].astype(str)) == set(METRICS)
    levels = m.groupby(m["scope"].astype(str))["level"].nunique().to_dict()
    assert levels == {"all": 1, "group": 10, "profession": 2}
    one = m[(m.step == 200) & (m.scope == "all")]
    assert len(one) == len(METRICS)
    shares = one.set_index(one["metric"].astype(str))["value"]
    total = shares[["ledger_only_positive", "ledger_only_negative", "ledger_mixed", "ledger_none"]].sum()
    assert total == pytest.approx(1.0)


def test_agents_edges_and_events_tables(default_run):
    _, out = default_run
    agents = pd.read_parquet(out / "agents.parquet")
    assert sorted(agents["step"].unique()) == [0, 50, 100, 150, 200]
    assert {
        "agent_id",
        "group",
        "profession",
        "stance",
        "engagement",
        "load",
        "identity",
        "in_group_degree",
        "degree",
    } <= set(agents.columns)
    assert len(agents[agents.step == 200]) == 1000
    edges = pd.read_parquet(out / "edges.parquet")
    assert (edges.source < edges.target).all() and not edges.duplicated(["source", "target"]).any()
    last = agents[agents.step == 200].set_index("agent_id")
    deg = pd.concat([edges.source, edges.target]).value_counts().reindex(last.index, fill_value=0)
    assert (deg.values == last["degree"].values).all()
    events = pd.read_parquet(out / "events.parquet")
    assert set(events["kind"].astype(str)) <= {"cut", "muted", "formed", "rewired", "excluded"}
    assert len(events) > 0 and events.step.between(1, 200).all()


def test_overrides_and_scenario(tmp_path):
    proc, out = run_cli(
        tmp_path,
        "n_agents=300",
        "steps=30",
        "seed=3",
        "scenario=pandemic_shock",
        "exposure.start=10",
        "metrics.by_group=false",
        "output.events=false",
    )
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["n_agents"], summary["steps"], summary["seed"]) == (300, 30, 3)
    assert summary["scenario"] == "pandemic_shock"
    m = pd.read_parquet(out / "metrics.parquet")
    e = m[(m.scope == "all") & (m.metric == "exposure")].set_index("step")["value"]
    assert e[9] == 1.0 and e[10] == 3.0
    assert "group" not in set(m["scope"].astype(str))
    assert not (out / "events.parquet").exists()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["foo=1"], "unknown config key: foo='1'"),
        (["influence.rate=1.5"], "influence.rate=1.5; allowed: [0.0, 1.0]"),
        (["n_agents=-3"], "n_agents=-3; allowed: >= 2"),
        (["n_groups=50", "n_agents=20"], "n_groups=50; allowed: <= n_agents (20)"),
        (["scenario=nope"], "scenario='nope'; allowed: one of baseline, capped_hyperconnectivity, literacy_training"),
        (["preset=nope"], "preset='nope'; allowed: one of deffuant, full, hegselmann_krause"),
        (["n_agents=abc"], "n_agents=abc"),
        (["network=edgelist", "network.path=/no/such.csv"], "/no/such.csv: file not found"),
        (["-m", "seed=1,2", "ties.exclusion_rate=0.1,-1"], "ties.exclusion_rate=-1.0; allowed: [0.0, 1.0]"),
        (["ties.rewiring=2"], "ties.rewiring='2'; allowed: true or false"),
        (["attention.capacity=1e-300"], "attention.capacity=1e-300; allowed: >= 0.01"),  # load would be inf
        # the scenario's name names the run directory: no way out of outputs/, no name too long for a file
        (["scenario.name=../../../escape"], "scenario.name='../../../escape'; allowed: 1-64 letters"),
        (["scenario.name=" + "a" * 300], "allowed: 1-64 letters, digits"),
        # Hydra's deletion: a traceback for a section's key before the preflight refused it
        (["~output.snapshot_every"], "~output.snapshot_every; allowed: no deletion of a config key"),
        # a sweep Hydra's basic sweeper cannot run: a traceback, or (listed value by value) no end
        (["-m", "seed=interval(0,1)"], "seed=interval(0,1); allowed: a list or a range of values to sweep"),
        (["-m", "seed=range(99999999999)"], "a sweep of 99,999,999,999 runs"),
        # two runs of one sweep into one directory: one failed writing over the other's files
        (["-m", "seed=0,0"], "invalid config: seed=0,0; allowed: each value once"),
        # Hydra's options that choose the config: a traceback before
        (["--config-dir=/no/such/dir"], "invalid option: --config-dir /no/such/dir; allowed: an existing directory"),
        (["-cn", "nope"], "invalid option: -cn nope; allowed: the name of a config file in "),
        (["--config-path", "conf"], "allowed: an absolute path to a directory of config files"),
        # a launcher's count it cannot use: joblib's ValueError traceback, after the parent had set up the sweep
        (["-m", "seed=0,1", "hydra.launcher.n_jobs=0"], "invalid config: hydra.launcher.n_jobs=0; allowed: a whole"),
    ],
)
def test_bad_input_one_line_nonzero_exit_no_outputs(tmp_path, args, expected):
    proc, out = run_cli(tmp_path, *args, check=False)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert not any((out / f).exists() for f in FILES)


def test_malformed_edge_list_names_the_line(tmp_path):
    f = tmp_path / "net.csv"
    f.write_text(
        "source,target,source_group,target_group,source_profession,target_profession\n"
        "a,b,g1,g1,social_work,health_care\n"
        "b,c,g1,g2,health_care,nurse\n"
    )
    proc, out = run_cli(tmp_path, "network=edgelist", f"network.path={f}", check=False)
    assert proc.returncode == 2 and "line 3" in proc.stderr and "nurse" in proc.stderr
    assert not any((out / x).exists() for x in FILES)


def test_user_edge_list_runs(tmp_path):
    f = tmp_path / "net.csv"
    rows = ["source,target,source_group,target_group,source_profession,target_profession"]
    for i in range(40):
        j = (i + 1) % 40
        rows.append(
            f"n{i},n{j},g{i // 10},g{j // 10},{'social_work' if i % 2 else 'health_care'},"
            f"{'social_work' if j % 2 else 'health_care'}"
        )
    f.write_text("\n".join(rows) + "\n")
    _, out = run_cli(tmp_path, "network=edgelist", f"network.path={f}", "steps=5")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_agents"] == 40 and summary["n_groups"] == 4
    nodes = pq.read_table(out / "nodes.parquet").to_pandas()
    assert list(nodes.agent_id) == list(range(40))
    assert list(nodes.node) == sorted(f"n{i}" for i in range(40))  # agents are numbered in label order
    assert all(nodes.group_label == [f"g{int(s[1:]) // 10}" for s in nodes.node])
    agents = pq.read_table(out / "agents.parquet").to_pandas().query("step == 0").sort_values("agent_id")
    assert list(agents.group) == [int(g[1:]) for g in nodes.group_label]  # group ids in label order too
    prof = {f"n{i}": "social_work" if i % 2 else "health_care" for i in range(40)}
    assert list(agents.profession.astype(str)) == [prof[s] for s in nodes.node]
    assert "nodes.parquet" in json.loads((out / "_complete.json").read_text())["files"]


def test_same_config_and_seed_give_byte_identical_outputs(tmp_path):
    """Also with the figure drawn by the figure process (sim.run.drawer) or by the run itself."""
    args = ("n_agents=200", "steps=20", "seed=11", "scenario=pandemic_shock", "exposure.start=5")
    # two usable CPUs for the figure process (the test suite gives its commands one numba thread)
    _, a = run_cli(tmp_path / "a", *args, env={"SIM_FIGURE_PROCESS": "on", "NUMBA_NUM_THREADS": "2"})
    _, b = run_cli(tmp_path / "b", *args, env={"SIM_FIGURE_PROCESS": "off"})
    for name in ("metrics.parquet", "agents.parquet", "events.parquet", "edges.parquet", "figure.png"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert not list(a.glob(".*.tmp"))
    assert "figure drawn by the figure process" in (a / "sim.log").read_text()
    assert "figure drawn by the figure process" not in (b / "sim.log").read_text()
    _, c = run_cli(tmp_path / "c", *args[:-2], "seed=12")
    assert (a / "metrics.parquet").read_bytes() != (c / "metrics.parquet").read_bytes()


def test_reference_implementation_runs_from_the_cli_with_the_same_results(tmp_path):
    args = ("n_agents=60", "n_groups=3", "steps=6", "seed=2")
    _, a = run_cli(tmp_path / "a", *args)
    _, b = run_cli(tmp_path / "b", *args, "implementation=reference")
    ta = pq.read_table(a / "agents.parquet").to_pandas()
    tb = pq.read_table(b / "agents.parquet").to_pandas()
    pd.testing.assert_frame_equal(ta, tb, check_exact=False, atol=1e-12, rtol=0)


def test_after_the_preflight_hydras_sweeper_composes_no_job_twice(monkeypatch):
    """`python -m sim -m` skips the basic sweeper's second composition of every job (the preflight did it)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    from sim.cli import trust_preflight

    monkeypatch.setattr(BasicSweeper, "validate_batch_is_legal", BasicSweeper.validate_batch_is_legal)
    sweeper = BasicSweeper(max_batch_size=None, params=None)  # no config loader: composing would fail
    with pytest.raises(AttributeError):  # Hydra's own check reaches for the config loader to compose
        sweeper.validate_batch_is_legal([["no_such_key=1"]])
    trust_preflight()
    assert sweeper.validate_batch_is_legal([["no_such_key=1"]]) is None


@pytest.mark.parametrize("sweep", [False, True])
def test_an_output_directory_that_cannot_be_made_is_refused_in_one_line(tmp_path, sweep):
    """A run or sweep directory under a file, or an outputs root there: one line, exit 2, before any output.

    It was Hydra's traceback (NotADirectoryError, FileNotFoundError for /proc/...).
    """
    afile = tmp_path / "afile"
    afile.write_text("not a directory\n")
    key = "hydra.sweep.dir" if sweep else "hydra.run.dir"
    args = ["-m", "seed=0,1"] if sweep else []
    cases = [
        (
            [*args, "n_agents=40", f"{key}={afile}/out"],
            None,
            f"invalid config: {key}={afile}/out; allowed: a directory",
        ),
        ([*args, "n_agents=40"], {"SIM_OUTPUTS": str(afile / "root")}, "invalid environment: SIM_OUTPUTS="),
    ]
    for argv, env, expected in cases:
        proc = cli(tmp_path, *argv, env=env)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 2 and len(lines) == 1 and expected in lines[0], proc.stderr
        assert f"({afile} is not a directory)" in lines[0]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # nothing written, no probe left
