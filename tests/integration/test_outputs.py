"""Outputs easy to find and read (docs/sweeps.md).

One outputs root whatever the working directory, shell-safe names with the overrides inside, a data
dictionary beside the collected tables, figures in words, and a sweep readable lazily as one dataset.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from sim.studies import dataset
from sim.studies.collect import axis_label, collect
from sim.studies.naming import read_overrides, sweep_name_of
from tests.support.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SHELL_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
SMALL = ["n_agents=60", "n_groups=2", "steps=6", "output.figure=false"]
ARGS = [*SMALL, "seed=0,1", "influence.rate=0.1,0.3", "hydra/launcher=basic"]


def sim(cwd: Path, root: Path, *args: str) -> subprocess.CompletedProcess:
    return cli(cwd, *args, env={"SIM_OUTPUTS": str(root), "HYDRA_FULL_ERROR": "0"})


def run_dirs(sdir: Path) -> list[Path]:
    return sorted(p for p in sdir.iterdir() if p.is_dir() and not p.name.startswith("."))


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A sweep of 4 tiny runs started from a directory other than the outputs root."""
    base = tmp_path_factory.mktemp("outputs")
    cwd, root = base / "elsewhere", base / "root"
    proc = sim(cwd, root, "-m", *ARGS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return cwd, root, root / "multirun" / sweep_name_of(ARGS)


def test_a_sweep_started_elsewhere_lands_under_the_outputs_root_with_shell_safe_names(swept):
    cwd, root, sdir = swept
    assert list(cwd.iterdir()) == []  # nothing written where the command was started
    assert [p.name for p in (root / "multirun").iterdir()] == [sdir.name]
    runs = run_dirs(sdir)
    assert len(runs) == 4
    for name in [sdir.name, *(r.name for r in runs)]:
        assert SHELL_SAFE.fullmatch(name), name
    assert len({r.name.rpartition("__")[2] for r in runs}) == 4  # four different hashes


def test_overrides_files_hold_the_exact_overrides(swept):
    _, _, sdir = swept
    assert read_overrides(sdir) == sorted(a for a in ARGS if not a.startswith("hydra"))
    seen = set()
    for run in run_dirs(sdir):
        own = read_overrides(run)
        marker = json.loads((run / "_complete.json").read_text())
        assert own == marker["hydra"]["overrides"]  # the overrides that made the run
        values = dict(o.split("=", 1) for o in own)
        seen.add((values["seed"], values["influence.rate"]))
        assert f"seed-{values['seed']}" in run.name and f"influence.rate-{values['influence.rate']}" in run.name
    assert seen == {("0", "0.1"), ("0", "0.3"), ("1", "0.1"), ("1", "0.3")}


def test_the_same_command_resumes_in_the_same_directory(swept):
    cwd, root, sdir = swept
    before = [r.name for r in run_dirs(sdir)]
    proc = sim(cwd / "another", root, "-m", *reversed(ARGS))  # another cwd, overrides in another order
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [p.name for p in (root / "multirun").iterdir()] == [sdir.name]
    assert [r.name for r in run_dirs(sdir)] == before
    for run in run_dirs(sdir):
        assert "run skipped" in (run / "sim.log").read_text()


def test_a_single_run_started_elsewhere_lands_under_the_outputs_root(tmp_path):
    proc = sim(tmp_path / "cwd", tmp_path / "root", *SMALL, "seed=4")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run,) = (tmp_path / "root" / "runs").iterdir()
    assert run.name.endswith("_baseline_seed4") and SHELL_SAFE.fullmatch(run.name)
    assert (run / "summary.json").exists() and list((tmp_path / "cwd").iterdir()) == []
    assert f"outputs: {run}" in proc.stdout


def _dictionary(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("table", ["summary", "metrics"])
def test_the_data_dictionary_describes_every_column_of_the_collected_tables(swept, table):
    _, _, sdir = swept
    schema = pq.read_schema(sdir / f"{table}.parquet")
    rows = _dictionary(sdir / f"{table}.columns.csv")
    assert [r["column"] for r in rows] == schema.names
    for r in rows:
        assert r["label"] and r["meaning"] and r["origin"] and r["type"], r
        if r["column"].startswith(("final.", "initial.")):
            assert r["unit"] and r["reference"], r
    by = {r["column"]: r for r in rows}
    assert by["influence.rate"]["unit"] == "share" and "convergence rate" in by["influence.rate"]["label"]
    if table == "summary":
        er = by["final.esteban_ray"]
        assert (er["label"], er["unit"], er["type"]) == (
            "Esteban-Ray polarization at the last step",
            "index, 0-1",
            "double",
        )
        assert by["wall_time_s"]["unit"] == "seconds"
        assert len(rows) > 90  # the ~100 flat columns, each explained beside the table


def test_figure_labels_are_words_with_units():
    assert axis_label("final.esteban_ray") == "Esteban-Ray polarization at the last step (index, 0-1)"
    assert axis_label("final.withdrawn_share") == "withdrawn at the last step (share of agents, 0-1)"
    assert axis_label("recovery.recovery_steps") == "steps to recover engagement (steps after the shock ends)"
    assert axis_label("influence.rate", ["influence.rate"]) == "convergence rate mu (share)\ninfluence.rate"
    assert axis_label("scenario", ["scenario"]) == "scenario (option of conf/scenario/)\nscenario"


def test_the_lazy_dataset_equals_the_collected_metrics(swept):
    _, _, sdir = swept
    lazy = dataset(sdir)
    collected = pq.read_table(sdir / "metrics.parquet")
    assert lazy.schema == collected.schema
    assert lazy.schema.names[:4] == ["run_id", "seed", "influence.rate", "step"]
    assert lazy.to_table().to_pandas().equals(collected.to_pandas())
    # a filter on a swept key reads only the runs it keeps
    rate = ds.field("influence.rate") == 0.3
    assert len(list(lazy.get_fragments(filter=rate))) == 2 and len(list(lazy.get_fragments())) == 4
    part = lazy.to_table(filter=rate & (ds.field("metric") == "esteban_ray")).to_pandas()
    assert set(part["influence.rate"]) == {0.3} and set(part["seed"]) == {0, 1}
    want = collected.to_pandas()
    want = want[(want["influence.rate"] == 0.3) & (want["metric"] == "esteban_ray")]
    assert sorted(part["value"]) == sorted(want["value"])


def _doc_block(marker: str) -> str:
    text = (ROOT / "docs" / "sweeps.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    (block,) = [b for b in blocks if marker in b]
    return block


def test_the_documented_pyarrow_query_runs(swept):
    _, _, sdir = swept
    code = _doc_block("to_table(").replace('"outputs/multirun/NAME"', repr(str(sdir)))
    scope: dict = {}
    exec(code, scope)
    df = scope["withdrawn"]
    assert len(df) == 4 * 7 and set(df.columns) >= {"influence.rate", "seed", "step", "value"}  # 4 runs x steps 0..6


def test_the_documented_duckdb_query_runs(swept):
    pytest.importorskip("duckdb")
    _, _, sdir = swept
    code = _doc_block("duckdb.sql").replace('"outputs/multirun/NAME"', repr(str(sdir)))
    scope: dict = {}
    exec(code, scope)
    df = scope["withdrawn"]
    assert len(df) == 2 * 7 and list(df.columns[:2]) == ["influence.rate", "step"]
    full = pq.read_table(sdir / "metrics.parquet").to_pandas()
    full = full[(full.scope == "all") & (full.metric == "withdrawn_share")]
    expected = full.groupby(["influence.rate", "step"])["value"].mean().to_numpy()
    assert df["withdrawn"].to_numpy() == pytest.approx(expected)


def test_a_run_left_by_an_older_naming_is_collected_once(swept, tmp_path, caplog):
    _, _, sdir = swept
    copy = tmp_path / "sweep"
    shutil.copytree(sdir, copy)
    first = run_dirs(copy)[0]
    old = copy / "influence.rate=0.1,seed=0"  # an older name of the same run, complete, ended earlier
    shutil.copytree(first, old)
    marker = json.loads((old / "_complete.json").read_text())
    marker["ended"] = "2000-01-01T00:00:00.000+00:00"
    (old / "_complete.json").write_text(json.dumps(marker))
    result = collect(copy, figure=False)
    assert result["runs"] == 4
    ids = pq.read_table(copy / "summary.parquet").column("run_id").to_pylist()
    assert old.name not in ids and first.name in ids
    assert "not collected: influence.rate=0.1,seed=0" in caplog.text


def test_the_collected_metrics_are_the_same_rows_whatever_their_row_groups(swept, tmp_path, monkeypatch):
    """METRICS_GROUP_ROWS sets only how metrics.parquet is cut into row groups: each run's rows, or all in one."""
    from sim.studies import collect as collecting

    _, _, sdir = swept
    tables = {}
    for rows in (1, 1 << 20):
        copy = tmp_path / f"rows{rows}"
        shutil.copytree(sdir, copy)
        monkeypatch.setattr(collecting, "METRICS_GROUP_ROWS", rows)
        collect(copy, figure=False)
        meta = pq.ParquetFile(copy / "metrics.parquet").metadata
        tables[rows] = pq.read_table(copy / "metrics.parquet")
        if rows == 1:  # a row group per run, each of one run only
            assert meta.num_row_groups == 4
            runs = [pq.ParquetFile(copy / "metrics.parquet").read_row_group(k).column("run_id") for k in range(4)]
            assert [len(set(r.to_pylist())) for r in runs] == [1, 1, 1, 1]
        else:
            assert meta.num_row_groups == 1
        front = [meta.row_group(0).column(k).encodings for k in range(3)]  # run_id, seed, influence.rate
        assert all(any("DICTIONARY" in e for e in encodings) for encodings in front), front
    assert tables[1].to_pandas().equals(tables[1 << 20].to_pandas())  # (each row group has its own dictionaries)
