"""Networks in the formats people have (sim.config.networkfiles): every format reads to the same network.

One small network (string ids, two groups, a profession, a stance and a trust for some nodes, one
isolated node) is written in each format; each must read to the same `EdgeList` as the others. Then
the rules every format shares: id types, Louvain groups seeded by the model's seed, errors in one line
naming the file and the line or the node, a networkx graph from Python, and the types of nodes.parquet.
"""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config.errors import ConfigError, InputError, InputFileError
from sim.config.networkfiles import EdgeList, from_graph, read_network
from sim.config.params import Config, NetworkConfig
from sim.core.initialize import initial_state
from sim.core.network import read_edge_list
from sim.run.outputs import node_table

# the reference network: ties a-b, b-c, c-a, c-d; e isolated; groups x (a, b, c) and y (d, e)
NODES = {
    "a": {"group": "x", "profession": "social_work", "stance": 0.25},
    "b": {"group": "x", "trust": 0.9},
    "c": {"group": "x", "profession": "health_care"},
    "d": {"group": "y"},
    "e": {"group": "y"},
}
TIES = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
NODE_TABLE = "id,group,profession,stance,trust\na,x,social_work,0.25,\nb,x,,,0.9\nc,x,health_care,,\nd,y,,,\ne,y,,,\n"


def _graph() -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(NODES.items())
    g.add_edges_from(TIES)
    return g


def _graphml(d):
    nx.write_graphml(_graph(), d / "net.graphml")
    return d / "net.graphml", ""


def _gexf(d):
    nx.write_gexf(_graph(), d / "net.gexf")
    return d / "net.gexf", ""


def _gml(d):
    nx.write_gml(_graph(), d / "net.gml")
    return d / "net.gml", ""


def _pajek(d):  # written by hand: networkx's writer drops attributes that are not text
    (d / "net.net").write_text(
        "*Vertices 5\n"
        '1 "a" 0 0 ellipse group x profession social_work stance 0.25\n'
        '2 "b" 0 0 ellipse group x trust 0.9\n'
        '3 "c" 0 0 ellipse group x profession health_care\n'
        '4 "d" 0 0 ellipse group y\n'
        '5 "e" 0 0 ellipse group y\n'
        "*Edges\n1 2\n2 3\n3 1 2.0\n4 3\n"
    )
    return d / "net.net", ""


def _edgelist(d):
    (d / "net.edgelist").write_text("# ties\na b\nb c 1.0\nc a {'weight': 2}\n\nd c  # reversed\n")
    (d / "nodes.csv").write_text(NODE_TABLE)
    return d / "net.edgelist", d / "nodes.csv"


def _csv(d):
    (d / "net.csv").write_text("target,source,weight\nb,a,1\nc,b,1\na,c,1\nd,c,1\nc,d,1\n")
    (d / "nodes.csv").write_text(NODE_TABLE)
    return d / "net.csv", d / "nodes.csv"


def _tsv(d):
    (d / "net.tsv").write_text("source\ttarget\na\tb\nb\tc\nc\ta\nc\td\n")
    (d / "nodes.tsv").write_text(NODE_TABLE.replace(",", "\t"))
    return d / "net.tsv", d / "nodes.tsv"


WRITERS = {
    "graphml": _graphml,
    "gexf": _gexf,
    "gml": _gml,
    "pajek": _pajek,
    "edgelist": _edgelist,
    "csv": _csv,
    "tsv": _tsv,
}


def read(path, nodes="", **options) -> EdgeList:
    return read_network(NetworkConfig(kind="edgelist", path=str(path), nodes=str(nodes or ""), **options))


def refused(path, expected: str) -> str:
    """The refusal of reading `path`: one line starting with the file's name and then `expected`."""
    with pytest.raises(InputFileError) as info:
        read(path)
    msg = str(info.value)
    assert msg.startswith(f"invalid input file {path}{expected}"), msg
    assert len(msg.splitlines()) == 1, msg
    return msg


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_every_format_reads_the_same_network(tmp_path, fmt):
    el = read(*WRITERS[fmt](tmp_path))
    assert el.node_labels.tolist() == ["a", "b", "c", "d", "e"]  # sorted ids; e isolated, yet an agent
    assert list(zip(el.u.tolist(), el.v.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 2), (2, 3)]
    assert el.group_labels.tolist() == ["x", "y"] and el.group.tolist() == [0, 0, 0, 1, 1]
    assert el.profession.tolist() == [0, -1, 1, -1, -1]  # -1: drawn as the config says
    np.testing.assert_array_equal(el.stance, [0.25, np.nan, np.nan, np.nan, np.nan])
    assert list(el.traits) == ["trust"]
    np.testing.assert_array_equal(el.traits["trust"], [np.nan, 0.9, np.nan, np.nan, np.nan])


def test_the_model_takes_the_file_values_and_draws_the_rest(tmp_path):
    path, nodes = _graphml(tmp_path)
    cfg = Config()
    cfg.network = NetworkConfig(kind="edgelist", path=str(path))
    state = initial_state(cfg, np.random.default_rng(3))
    assert state.n_agents == 5 and state.ties.degree().tolist() == [2, 2, 3, 1, 0]  # e isolated
    assert state.stance[0] == 0.25 and 0 < state.stance[1] < 1 and state.stance[1] != 0.25
    assert state.trust[1] == np.float32(0.9) and state.engagement[1] == np.float32(0.9)
    assert state.profession[0] == 0 and state.profession[2] == 1 and set(state.profession.tolist()) <= {0, 1}
    again = initial_state(cfg, np.random.default_rng(3))
    np.testing.assert_array_equal(again.profession, state.profession)
    np.testing.assert_array_equal(again.stance, state.stance)


def test_the_original_csv_reads_as_before(tmp_path):
    path = tmp_path / "net.csv"
    path.write_text(
        "source,target,source_group,target_group,source_profession,target_profession\n"
        "10,2,7,7,social_work,social_work\n33,10,12,7,health_care,social_work\n"
    )
    old, new = read_edge_list(path), read(path)
    for f in dataclasses.fields(EdgeList):
        a, b = getattr(old, f.name), getattr(new, f.name)
        assert a == b if not isinstance(a, np.ndarray) else np.array_equal(a, b), f.name
    assert new.node_labels.dtype == np.int64 and new.group_labels.tolist() == [7, 12]
    assert read(path, groups="one").group is None  # network.groups=one: the file's groups set aside


def test_ids_read_from_text_are_integers_when_written_as_integers(tmp_path):
    (tmp_path / "a.edgelist").write_text("10 2\n2 33\n-4 10\n")
    el = read(tmp_path / "a.edgelist")
    assert el.node_labels.dtype == np.int64 and el.node_labels.tolist() == [-4, 2, 10, 33]
    (tmp_path / "b.edgelist").write_text("10 2\n2 033\n")  # 033 is text: every id is then text
    assert read(tmp_path / "b.edgelist").node_labels.tolist() == ["033", "10", "2"]


def test_groups_one_auto_and_attribute(tmp_path):
    (tmp_path / "bare.txt").write_text("1 2\n2 3\n")
    assert read(tmp_path / "bare.txt").group is None  # auto: no node has a group: one group
    with pytest.raises(
        InputFileError, match=r"bare\.txt: no node has a 'group' attribute \(network\.groups=attribute\)"
    ):
        read(tmp_path / "bare.txt", groups="attribute")
    path, _ = _gml(tmp_path)
    with pytest.raises(InputFileError, match=r"node 'b' has no 'profession' \(2 of 5 nodes have one\)"):
        read(path, group_attribute="profession")
    el = read(path, group_attribute="group")
    assert el.group_labels.tolist() == ["x", "y"]


def _louvain_groups(path, seed: int) -> np.ndarray:
    cfg = Config(seed=seed)
    cfg.network = NetworkConfig(kind="edgelist", path=str(path), groups="louvain")
    return initial_state(cfg, np.random.default_rng(seed)).group


def test_louvain_groups_are_fixed_by_the_seed(tmp_path):
    g = nx.gnp_random_graph(60, 0.08, seed=1)  # weak communities: the partition depends on Louvain's seed
    path = tmp_path / "random.edgelist"
    nx.write_edgelist(g, path, data=False)
    path.write_text(path.read_text() + "999\n")  # an isolated node: a community of its own
    first = _louvain_groups(path, 0)
    np.testing.assert_array_equal(first, _louvain_groups(path, 0))
    assert first.size == len({x for tie in g.edges for x in tie}) + 1
    assert 3 <= first.max() + 1 <= 20 and len(set(first.tolist())) == first.max() + 1  # groups 0..G-1
    assert first[-1] not in first[:-1]  # node 999 is last in id order, alone in its group
    assert any(not np.array_equal(first, _louvain_groups(path, s)) for s in range(1, 6))


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "bad.graphml",
            '<graphml><graph>\n<node id="a"/>\n<node id="b">\n</graph></graphml>\n',
            ", line 4: unreadable GraphML",
        ),
        ("bad.gml", "graph [\n node [ id 0 ]\n node [ id 1\n]\n", ", line 5: unreadable GML"),
        ("bad.gexf", "<gexf><nodes/></gexf>", ": unreadable GEXF (NetworkXError: No <graph> element"),
        ("bad.net", '*Vertices 2\n1 "a"\n*Edges\n1 3\n', ", line 3: '*Edges' where vertex 2 of the 2 that *Vert"),
        ("loop.txt", "a b\nb b\n", ", line 2: self-loop on node 'b'"),
        ("net.dat", "a b\n", ": unknown network format .dat; the extension says the format: .csv (CSV)"),
        (
            "st.gml",
            'graph [\n node [ id 0 label "a" stance 1.5 ]\n node [ id 1 label "b" ]\n edge [ source 0 target 1 ]\n]\n',
            ": node 'a': stance 1.5; allowed: a number in [0, 1]",
        ),
        (
            "p.gml",
            'graph [\n node [ id 0 label "a" profession "nurse" ]\n node [ id 1 label "b" ]\n'
            " edge [ source 0 target 1 ]\n]\n",
            ": node 'a': profession 'nurse'; allowed: social_work, health_care",
        ),
        ("one.edgelist", "a\n", ": a network needs at least 2 nodes, found 1"),
        ("head.csv", "a,b\n", ", line 1: no header: required columns: source, target"),
        ("dup.graphml", '<graphml><graph><node id="1"/><node id="01"/><node id="x"/></graph></graphml>', None),
        ("nul.gml", "graph [\n node [ id 0\x00 ]\n]\n", ", line 2: NUL byte at column 13"),
    ],
)
def test_a_bad_file_is_refused_in_one_line_naming_the_file_and_the_line_or_node(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    if expected is None:  # ids 1 and 01 are distinct text: both kept, as text
        assert read(path).node_labels.tolist() == ["01", "1", "x"]
        return
    assert len(refused(path, expected)) < 400


PAJEK = "expected Pajek: *Vertices N, then lines 'number label', then *Edges or *Arcs lines"
AB = '*Vertices 2\n1 "a"\n2 "b"\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('*Vertices 3\n1 "a"\n2\n*Edges\n1 2\n', "line 3: vertex line '2' has no label (vertex 2 of the 3 that"),
        ('*Vertices 2\n1 "a"\n\n*Edges\n', "line 3: a blank line where vertex 2 of the 2 that *Vertices announces"),
        ('*Vertices 2\n1 "a"\n', "line 1: the file ends after 1 of the 2 vertex lines *Vertices announces"),
        ("*Vertices x\n", "line 1: '*Vertices x': the line announcing vertices is '*Vertices N'"),
        ('*Vertices 2\n1 "a\n2 "b"\n*Edges\n1 2\n', "line 2: no closing quotation in '1 \"a'"),
        ('*Vertices 2\n1 "a"\n1 "b"\n*Edges\n1 1\n', "line 3: vertex number '1' again (first on line 2)"),
        ('*Vertices 2\n1 "a"\n2 "a"\n*Edges\n1 2\n', "line 3: node 'a' again (first on line 2): one label per"),
        (AB + "*Edges\n1 2\n2 5\n", "line 6: a tie to vertex '5', which none of the 2 vertex lines after *Vertices"),
        (AB + "*Edges\n1 2\n2 2\n", "line 6: self-loop on node 'b'"),
        (AB + "*Edges\n1\n", "line 5: a tie with one vertex ('1')"),
        (AB + "*Edges\n1 2\n*Vertices 1\n", "line 6: section '*Vertices' after the ties"),
        (AB + "*Edgeslist\n1 2\n", "line 4: section '*Edgeslist' is not read (only *Edges, *Arcs or *Matrix)"),
        (AB + "*Matrix\n0 1\n1 x\n", "line 6: matrix entry 'x' in column 2 is not an integer"),
        (AB + "*Matrix\n0 1 1\n", "line 5: a tie in row 1, column 3: beyond the 2 vertices"),
        ('*Vertices 1\n1 "a"\n2 "b"\n*Edges\n1 2\n', "line 3: '2 \"b\"' after the 1 vertex lines *Vertices announces"),
        ("1 2\n*Vertices 2\n", "line 1: '1 2' before any *Vertices line"),
        ("*Edges\n1 2\n", "line 1: *Edges before any *Vertices line"),
        ("*Partition p\n", "line 1: section '*Partition' is not read"),
        ('*Vertices 2\n1 "a" group x\n2 "b" group y\n*Edges\n1 2\n', "line 2: node 'a': 'group' in field 3 is not"),
        ('*Vertices 2\n1 "a" 0 0 box group\n2 "b"\n*Edges\n1 2\n', "line 2: node 'a': 'group' without a value"),
    ],
)
def test_a_bad_pajek_file_is_refused_naming_its_line_and_the_format(tmp_path, text, expected):
    """A line networkx cannot read, or would read as another network, is refused in one line naming it."""
    path = tmp_path / "bad.net"
    path.write_text(text)
    msg = refused(path, f", {expected}")
    assert msg.endswith(f"; {PAJEK}"), msg


def test_a_pajek_node_attribute_out_of_range_names_its_vertex_line(tmp_path):
    path = tmp_path / "st.net"
    path.write_text(AB.replace('2 "b"', '2 "b" 0 0 box stance 1.5') + "*Edges\n1 2\n")
    with pytest.raises(
        InputFileError, match=r"st\.net, line 3: node 'b': stance '1\.5'; allowed: a number in \[0, 1\]"
    ):
        read(path)


@pytest.mark.parametrize(
    "text",
    [
        "%% a comment\r\n*Network n\r\n" + AB.replace("\n", "\r\n") + "\r\n*Arcs\r\n1 2\r\n\r\n2 1 1.0\r\n",
        AB + "*Edges\na b\n",  # ties by label, as networkx reads them
        AB + "*Matrix\n0 1\n1 0\n",
        AB + "*Arcs\n1 2\n*Edges\n2 1\n",  # a second section of ties
    ],
    ids=["crlf-comment-arcs", "ties-by-label", "matrix", "arcs-then-edges"],
)
def test_pajek_files_networkx_reads_are_read_as_before(tmp_path, text):
    path = tmp_path / "ok.net"
    path.write_bytes(text.encode())
    el = read(path)
    assert el.node_labels.tolist() == ["a", "b"] and list(zip(el.u.tolist(), el.v.tolist(), strict=True)) == [(0, 1)]


def test_a_pajek_file_networkx_writes_is_read(tmp_path):
    g = nx.Graph()
    g.add_nodes_from([("a", {"group": "x"}), ("b c", {"group": "y"}), ("d", {"group": "y"})])
    g.add_edges_from([("a", "b c"), ("d", "a")])
    nx.write_pajek(g, tmp_path / "nx.net")
    el = read(tmp_path / "nx.net")
    assert el.node_labels.tolist() == ["a", "b c", "d"] and el.group.tolist() == [0, 1, 1]
    assert list(zip(el.u.tolist(), el.v.tolist(), strict=True)) == [(0, 1), (0, 2)]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "cut.graphml",
            '<graphml><graph edgedefault="undirected">\n<node id="a"/>\n<node id="b"/>\n<edge source="a" ',
            ", line 4: unreadable GraphML (ParseError: unclosed token: line 4",
        ),
        ("empty.graphml", "\n", ", line 2: unreadable GraphML (ParseError: no element found"),
        (
            "cut.gexf",
            '<gexf><graph>\n<nodes><node id="a"/>\n<node id="b"/></nodes>\n<edges><edge source="a" ',
            ", line 4: unreadable GEXF (ParseError: unclosed token: line 4",
        ),
        (
            "tok.gml",
            'graph [\n node [ id 0 label "a" ]\n node [ id 1 label "b" ]\n edge [ source 0 @ target 1 ]\n]\n',
            ", line 4: unreadable GML (NetworkXError: cannot tokenize @",
        ),
        (
            "cut.gml",
            'graph [\n node [ id 0 label "a" ]\n node [ id 1 label "b" ]\n edge [ source 0 target 1\n',
            ", line 5: unreadable GML (NetworkXError: expected ']', found EOF",
        ),
        (  # no line from networkx: the message names the node
            "undef.gml",
            'graph [\n node [ id 0 label "a" ]\n node [ id 1 label "b" ]\n edge [ source 0 target 7 ]\n]\n',
            ": unreadable GML (NetworkXError: edge #0 has undefined target 7)",
        ),
    ],
)
def test_a_bad_xml_or_gml_file_names_the_line_the_parser_gives_and_the_format(tmp_path, name, text, expected):
    from sim.config.networkfiles import FORMATS

    path = tmp_path / name
    path.write_text(text)
    msg = refused(path, expected)
    assert msg.endswith(f"; expected {FORMATS[path.suffix][1]}"), msg


def test_node_table_errors_name_its_line(tmp_path):
    (tmp_path / "e.csv").write_text("source,target\na,b\na,z\n")
    (tmp_path / "n.csv").write_text("id,profession,stance\na,social_work,\nb,,0.5\nb,,\n")
    with pytest.raises(InputFileError, match=r"n\.csv, line 4: node 'b' again \(first on line 3\)"):
        read(tmp_path / "e.csv", tmp_path / "n.csv")
    (tmp_path / "e.csv").write_text("source,target\na,b\n")
    (tmp_path / "n.csv").write_text("id,profession,stance\na,social_work,\nb,,x5\n")
    with pytest.raises(InputFileError, match=r"n\.csv, line 3: node 'b': stance 'x5'; allowed: a number in \[0, 1\]"):
        read(tmp_path / "e.csv", tmp_path / "n.csv")
    (tmp_path / "e.csv").write_text("source,target\na,b\na,z\n")
    (tmp_path / "n.csv").write_text("id\na\nb\n")
    with pytest.raises(InputFileError, match=r"e\.csv, line 3: node 'z' is not in the node table .*n\.csv"):
        read(tmp_path / "e.csv", tmp_path / "n.csv")
    path, _ = _gml(tmp_path)
    with pytest.raises(ConfigError, match=r"network\.nodes=.*no node table with a GML file"):
        read(path, tmp_path / "n.csv")


# --------------------------------------------------------------------------- from Python


def test_a_networkx_graph_keeps_its_id_types():
    g = nx.path_graph(4)  # int ids
    g.nodes[0]["group"], g.nodes[1]["group"], g.nodes[2]["group"], g.nodes[3]["group"] = 5, 5, 12, 12
    el = from_graph(g, NetworkConfig(kind="edgelist"))
    assert el.node_labels.dtype == np.int64 and el.group_labels.dtype == np.int64
    assert el.group_labels.tolist() == [5, 12] and el.group.tolist() == [0, 0, 1, 1]
    s = nx.relabel_nodes(g, {0: "10", 1: "9", 2: "x", 3: "y"})  # strings stay strings, even "10"
    assert from_graph(s, NetworkConfig(kind="edgelist")).node_labels.tolist() == ["10", "9", "x", "y"]
    with pytest.raises(InputError, match=r"invalid graph: nodes 1 and '1' both read as '1'"):
        from_graph(nx.Graph([(1, "1"), ("1", "a")]), NetworkConfig(kind="edgelist"))
    with pytest.raises(ConfigError, match="graph='list'; allowed: a networkx graph"):
        from_graph([(1, 2)], NetworkConfig(kind="edgelist"))


def test_the_model_takes_a_graph_and_refuses_the_sizes_it_sets():
    from sim import ResocializationModel

    g = _graph()
    model = ResocializationModel(graph=g, seed=4, steps=2, collect=False)
    assert model.state.n_agents == 5 and model.state.n_groups == 2 and model.state.stance[0] == 0.25
    assert model.labels[0].tolist() == ["a", "b", "c", "d", "e"] and model.labels[1].tolist() == ["x", "y"]
    model.run_model()
    assert model.state.t == 2
    louvain = ResocializationModel(graph=g, seed=4, collect=False, **{"network.groups": "louvain"})
    assert louvain.labels[1].tolist() == list(range(louvain.state.n_groups))
    with pytest.raises(ConfigError, match="n_agents=50; allowed: no value with graph="):
        ResocializationModel(graph=g, n_agents=50)
    with pytest.raises(ConfigError, match="n_groups=3; allowed: no value with graph="):
        ResocializationModel(Config(n_groups=3), graph=g)
    with pytest.raises(ConfigError, match="network='sbm'; allowed: edgelist or nothing with graph="):
        ResocializationModel(graph=g, network="sbm")
    # a composed classic preset: the sizes its preset sets (deffuant: one group) were not given
    from sim import compose

    classic = ResocializationModel(compose(preset="deffuant"), graph=g, seed=4, collect=False)
    assert classic.state.n_agents == 5 and classic.cfg.preset.name == "deffuant"
    with pytest.raises(ConfigError, match="n_agents=50; allowed: no value with graph="):
        ResocializationModel(compose(preset="deffuant", n_agents=50), graph=g)


# --------------------------------------------------------------------------- outputs


def test_nodes_parquet_keeps_the_id_types():
    ints = node_table(np.array([3, 10, 20]), np.array([1, 0, 1], np.int32), np.array([7, 12]))
    assert ints.schema.field("node").type == pa.int64() and ints.schema.field("group_label").type == pa.int64()
    assert ints.column("group_label").to_pylist() == [12, 7, 12] and ints.column("group").to_pylist() == [1, 0, 1]
    text = node_table(np.array(["a", "b"]), np.array([0, 0], np.int32), np.array(["x"]))
    assert text.schema.field("node").type == pa.string() and text.column("node").to_pylist() == ["a", "b"]
    assert text.schema.field("group_label").type == pa.string()


def test_metrics_parquet_types_the_group_label_as_nodes_parquet_does(tmp_path):
    """A user's network: metrics.parquet gets group_label with the labels' type (pandas: Int64, exact)."""
    import pandas as pd
    import pyarrow.parquet as pq

    from sim.run.dictionary import describe
    from sim.run.recorder import SCHEMA, metrics_schema

    assert metrics_schema(None) is SCHEMA  # a generated network: the table as before (baselines unchanged)
    assert metrics_schema(np.array(["x", "y"])).field("group_label").type == pa.string()
    schema = metrics_schema(np.array([7, 2**60 + 1]))
    assert schema.field("group_label").type == pa.int64()
    big = 2**60 + 1  # a float64 would read it as 2**60
    rows = {"step": [0, 0], "scope": ["all", "group"], "level": ["all", str(big)], "metric": ["m", "m"]}
    pq.write_table(
        pa.table({**rows, "value": [0.5, 0.5], "group_label": [None, big]}, schema=schema), tmp_path / "m.parquet"
    )
    df = pd.read_parquet(tmp_path / "m.parquet")
    assert str(df.group_label.dtype) == "Int64" and df.group_label[1] == big and df.group_label.isna()[0]
    assert describe("group_label") is not None and "nodes.parquet" in describe("group_label").meaning


# --------------------------------------------------------------------------- fuzz


def _noisy(data: bytes, ops: list[tuple[int, bytes]]) -> bytes:
    for at, chunk in ops:
        at %= len(data) + 1
        data = data[:at] + chunk + data[at + len(chunk) // 2 :]
    return data


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("formats")
    out = {}
    for write in WRITERS.values():
        path, _ = write(d)
        out[path.suffix] = path.read_bytes()
    return out


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    ext=st.sampled_from([".graphml", ".gexf", ".gml", ".net", ".edgelist", ".csv", ".tsv"]),
    ops=st.lists(
        st.tuples(
            st.integers(0, 10**4),
            st.one_of(
                st.sampled_from([b"<", b">", b"[", b"]", b'"', b"\n", b"\x00", b"\xff", b" ", b"\t"]),
                st.binary(max_size=6),
            ),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_a_damaged_file_of_any_format_is_read_or_refused_in_one_line(tmp_path_factory, samples, ext, ops):
    path = tmp_path_factory.getbasetemp() / f"fuzz{ext}"
    path.write_bytes(_noisy(samples[ext], ops))
    try:
        el = read(path)
    except InputFileError as err:
        msg = str(err)
        assert msg.startswith(f"invalid input file {path}") and len(msg.splitlines()) == 1, msg
        return
    n = el.n_nodes
    assert n >= 2 and np.all(el.u < el.v) and (el.u.size == 0 or el.v.max() < n)
    assert el.group is None or el.group.shape == (n,)
