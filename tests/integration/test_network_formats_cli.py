"""Network files in other formats through the command line.

A run keeps the user's ids and group labels with their types (in nodes.parquet, and in the metrics by
group, which join them on the label); a bad file, or a size the file sets, stops before anything is
written (exit 2, one line on stderr).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pandas as pd
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "HYDRA_FULL_ERROR": "0", "PYTHONPATH": str(ROOT), **env},
        timeout=300,
    )


def test_a_graphml_run_keeps_the_ids_and_group_labels_with_their_types(tmp_path):
    g = nx.Graph()
    for i in range(20):
        g.add_node(i * 10, group=7 if i < 10 else 12)  # integer ids and groups (GraphML types them)
    g.add_edges_from((i * 10, ((i + 1) % 19) * 10) for i in range(19))
    g.nodes[0]["stance"] = 0.125
    nx.write_graphml(g, tmp_path / "net.graphml")  # node 190 has no tie: an isolated agent
    out = tmp_path / "run"
    args = ("network=edgelist", "network.path=net.graphml", "steps=3", "output.figure=false", f"hydra.run.dir={out}")
    proc = _cli(tmp_path, *args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    nodes = pq.read_table(out / "nodes.parquet")
    assert str(nodes.schema.field("node").type) == "int64" and str(nodes.schema.field("group_label").type) == "int64"
    assert nodes.column("node").to_pylist() == [i * 10 for i in range(20)]  # agents in id order
    assert nodes.column("group_label").to_pylist() == [7] * 10 + [12] * 10
    assert nodes.column("group").to_pylist() == [0] * 10 + [1] * 10
    metrics = pq.read_table(out / "metrics.parquet").to_pandas()
    assert sorted(metrics.loc[metrics.scope == "group", "level"].astype(str).unique()) == ["12", "7"]
    agents = pq.read_table(out / "agents.parquet").to_pandas().query("step == 0").sort_values("agent_id")
    assert agents.stance.iloc[0] == 0.125 and agents.degree.iloc[-1] == 0
    assert json.loads((out / "summary.json").read_text())["n_agents"] == 20


HEADER = "source,target,source_group,target_group,source_profession,target_profession"


@pytest.mark.parametrize(
    ("labels", "dtype"), [((7, 9), "Int64"), (("north", "south"), "str")], ids=["integer-groups", "text-groups"]
)
def test_metrics_by_group_join_the_nodes_on_the_users_group_label(tmp_path, labels, dtype):
    """metrics.parquet's group rows carry the label with its type: a merge on it finds every node's group."""
    label = {i: labels[0] if i < 6 else labels[1] for i in range(10)}
    ties = [(i, (i + 1) % 10) for i in range(10)]
    rows = [f"{s},{t},{label[s]},{label[t]},social_work,social_work" for s, t in ties]
    (tmp_path / "net.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    out = tmp_path / "run"
    args = ("network=edgelist", "network.path=net.csv", "steps=2", "output.figure=false", f"hydra.run.dir={out}")
    proc = _cli(tmp_path, *args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics, nodes = pd.read_parquet(out / "metrics.parquet"), pd.read_parquet(out / "nodes.parquet")
    groups = metrics[metrics.scope == "group"]
    assert str(groups.group_label.dtype) == dtype and sorted(groups.group_label.unique()) == sorted(labels)
    assert (groups.level.astype(str) == groups.group_label.astype(str)).all()  # level: the same label, as text
    assert metrics[metrics.scope != "group"].group_label.isna().all()
    joined = groups.merge(nodes, on="group_label")
    size = nodes.group_label.value_counts()
    assert len(joined) == sum(size[g] for g in groups.group_label) > 0  # each group row, once per node of the group
    per_group = joined.groupby("group_label").agent_id.nunique().to_dict()
    assert per_group == {labels[0]: 6, labels[1]: 4}
    # the group numbers agree too: each group row's label is its nodes' label, and one group number each
    assert (joined.groupby("group_label").group.nunique() == 1).all()


GML_BAD = 'graph [\n node [ id 0 label "a" ]\n node [ id 1 label "b"\n edge [ source 0 target 1 ]\n]\n'
GML_STANCE = 'graph [\n node [ id 0 label "a" stance 2 ]\n node [ id 1 label "b" ]\n edge [ source 0 target 1 ]\n]\n'
GML_OK = 'graph [\n node [ id 0 label "a" ]\n node [ id 1 label "b" ]\n edge [ source 0 target 1 ]\n]\n'
PAJEK_BAD = '*Vertices 2\n1 "a"\n2 "b"\n*Edges\n1 2\n2 5\n'
GRAPHML_CUT = '<graphml><graph edgedefault="undirected">\n<node id="a"/>\n<node id="b"/>\n<edge source="a" '


@pytest.mark.parametrize(
    ("name", "text", "extra", "expected"),
    [
        ("net.gml", GML_BAD, [], "error: invalid input file net.gml, line 6: unreadable GML"),
        (
            "net.net",
            PAJEK_BAD,
            [],
            "error: invalid input file net.net, line 6: a tie to vertex '5', which none of the 2 vertex lines after "
            "*Vertices (line 1) declares; expected Pajek: *Vertices N",
        ),
        ("net.graphml", GRAPHML_CUT, [], "error: invalid input file net.graphml, line 4: unreadable GraphML"),
        (
            "net.gml",
            GML_STANCE,
            [],
            "error: invalid input file net.gml: node 'a': stance 2; allowed: a number in [0, 1]",
        ),
        (
            "net.gml",
            GML_OK,
            ["n_agents=50"],
            "error: invalid config: n_agents=50; allowed: no value with network.kind=",
        ),
        ("net.xml", GML_OK, [], "error: invalid input file net.xml: unknown network format .xml"),
    ],
    ids=[
        "malformed",
        "pajek-undeclared-vertex",
        "graphml-truncated",
        "stance-out-of-range",
        "n_agents-given",
        "unknown-extension",
    ],
)
def test_a_bad_network_stops_before_any_output(tmp_path, name, text, extra, expected):
    (tmp_path / name).write_text(text)
    outputs = str(tmp_path / "outputs")  # where a run would write
    proc = _cli(tmp_path, "network=edgelist", f"network.path={name}", "steps=2", *extra, SIM_OUTPUTS=outputs)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith(expected), proc.stderr
    assert not (tmp_path / "outputs").exists()
