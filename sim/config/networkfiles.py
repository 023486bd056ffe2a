"""A user's network in the formats people have, read into one structure: `EdgeList`.

``network=edgelist network.path=FILE`` reads FILE by its extension (`FORMATS`):

- ``.csv`` / ``.tsv``: an edge table with a header. With the columns ``source_group``, ``target_group``,
  ``source_profession``, ``target_profession`` it is the original format, read by
  `sim.config.inputfiles.parse_edge_list` exactly as before; otherwise it needs ``source`` and ``target``
  (other columns are ignored) and may come with a node table (``network.nodes``, CSV or TSV: a column
  ``id`` and optional columns ``group``, ``profession``, ``stance``, ``literacy``, ``trust``, ``critical``;
  an empty cell is a value not given). With a node table its ids are the nodes, isolated ones included,
  and every tie must join two of them.
- ``.edgelist`` / ``.edges`` / ``.txt``: one tie per line, two node ids separated by white space (more
  fields, such as a weight or networkx's ``{...}`` data, are ignored); a line with one id is a node
  without ties; ``#`` starts a comment. A node table may come with it.
- ``.graphml``, ``.gexf``, ``.gml``, ``.net`` / ``.paj`` / ``.pajek``: parsed by networkx; node attributes
  ``group`` (or the attribute `network.group_attribute` names), ``profession``, ``stance``, ``literacy``,
  ``trust`` and ``critical`` are read where present. GML nodes are named by their ``label`` when every
  node has a distinct one, else by their ``id``. networkx names a line where its XML and GML parsers give
  one; a Pajek file is first walked line by line as networkx reads it (`_pajek_check`), so that what
  networkx would fail on without a line, or read as another network, is refused with its line.

Every file is read through `sim.config.inputfiles.text_lines` first (a regular file of at most 1 GiB,
UTF-8 text, no NUL byte, bounded lines), so the checks of the original reader hold for every format.
Ties are undirected: repeats in either direction merge; a self-loop is refused. From Python, a networkx
graph is read by `from_graph` into the same structure.

Normalization, the same for every format: node ids keep their type (an id read from text that is an
integer written canonically, such as ``17`` but not ``017``, is an integer), and agents are numbered in
sorted id order (numerically when every id is an integer, else as text), so the same network gives the
same run whatever its format or row order. Group labels follow the same rule. Groups come from the group
attribute (`network.groups`: ``auto`` uses it when any node has one, else one group; ``attribute``
requires it; ``one`` puts everyone in one group; ``louvain`` detects communities, in
`sim.core.initialize`). A node without a profession, stance or trait gets the model's draw.

Every refusal is one line naming the file and the line or the node, the value and what is expected.
This module lives in ``sim.config`` so that the preflight runs it before a run directory exists.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.config import inputfiles
from sim.config.errors import ConfigError, InputError, InputFileError
from sim.config.inputfiles import EDGE_LIST_COLUMNS, EdgeRows, check_file, header_columns, shown, text_lines
from sim.config.params import PROFESSIONS, NetworkConfig

__all__ = [
    "FORMATS",
    "GRAPH_PATH",
    "GROUP_MODES",
    "TRAITS",
    "EdgeList",
    "from_edge_rows",
    "from_graph",
    "label_array",
    "read_network",
    "sorted_unique",
]

#: Extension -> (format, what a file of it holds), in the order the messages list them.
FORMATS: dict[str, tuple[str, str]] = {
    ".csv": (
        "CSV",
        "a header with source,target (and optionally source_group,target_group,source_profession,"
        "target_profession), then one tie per line",
    ),
    ".tsv": ("TSV", "the columns of the CSV format, separated by tabs"),
    ".tab": ("TSV", "the columns of the CSV format, separated by tabs"),
    ".edgelist": ("edge list", "one tie per line: two node ids separated by white space; '#' starts a comment"),
    ".edges": ("edge list", "one tie per line: two node ids separated by white space; '#' starts a comment"),
    ".txt": ("edge list", "one tie per line: two node ids separated by white space; '#' starts a comment"),
    ".graphml": ("GraphML", "GraphML XML: <graphml><graph><node id=...><edge source=... target=...>"),
    ".gexf": ("GEXF", "GEXF XML: <gexf><graph><nodes><node id=...>, <edges><edge source=... target=...>"),
    ".gml": ("GML", "GML: graph [ node [ id ... ] edge [ source ... target ... ] ]"),
    ".net": ("Pajek", "Pajek: *Vertices N, then lines 'number label', then *Edges or *Arcs lines"),
    ".paj": ("Pajek", "Pajek: *Vertices N, then lines 'number label', then *Edges or *Arcs lines"),
    ".pajek": ("Pajek", "Pajek: *Vertices N, then lines 'number label', then *Edges or *Arcs lines"),
}
NODE_TABLE_FORMATS = (".csv", ".tsv", ".tab")
#: network.groups: where the groups come from
GROUP_MODES = ("auto", "attribute", "one", "louvain")
TRAITS = ("literacy", "trust", "critical")
#: cfg.network.path of a model built from a networkx graph (ResocializationModel(graph=G)): no file
GRAPH_PATH = "<networkx graph>"
EDGE_TABLE_COLUMNS = ("source", "target")
_LEGACY_ONLY = EDGE_LIST_COLUMNS[2:]  # the columns that make a CSV the original format


@dataclass(frozen=True)
class EdgeList:
    """A user network with node attributes, renumbered to dense indices (agents 0..N-1).

    Attributes:
        u: Lower node index of each tie (int64), ``u < v``, sorted by ``(u, v)``, no repeats.
        v: Higher node index of each tie (int64).
        group: Group id per node (int32), ``0..G-1`` in sorted label order; None when the file gives no
            groups (then `network.groups` makes them: one group, or Louvain communities).
        profession: Profession code per node (int8), index into ``PROFESSIONS``; -1 where not given
            (then drawn as the config's professions say).
        node_labels: The user's id of each node index (int64 if every id is an integer, else str).
        group_labels: The user's label of each group id (same typing rule); None with `group`.
        stance: Initial stance per node (float64, NaN where not given); None if no node has one.
        traits: Initial ``literacy``, ``trust``, ``critical`` per node (float64, NaN where not given), for
            the traits some node has.
    """

    u: np.ndarray
    v: np.ndarray
    group: np.ndarray | None
    profession: np.ndarray
    node_labels: np.ndarray
    group_labels: np.ndarray | None
    stance: np.ndarray | None = None
    traits: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes, i.e. agents the file defines."""
        return int(self.node_labels.size)


# --------------------------------------------------------------------------- shared helpers


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values; numpy's ``np.unique`` is far slower on 1e7 int64 here."""
    if x.size == 0:
        return x
    y = np.sort(x)
    keep = np.empty(y.size, dtype=bool)
    keep[0] = True
    np.not_equal(y[1:], y[:-1], out=keep[1:])
    return y[keep]


def label_array(labels: set[str]) -> np.ndarray:
    """Sorted labels: numerically when all are canonical integers, else as text.

    Only canonical spellings (``str(int(s)) == s``) count as integers, so two
    distinct strings such as ``"1"`` and ``"01"`` can never merge into one node.
    """
    as_int: list[int] = []
    for s in labels:
        try:
            i = int(s)
        except ValueError:
            break
        if str(i) != s or not -(2**63) <= i < 2**63:
            break
        as_int.append(i)
    else:
        return np.array(sorted(as_int), dtype=np.int64)
    return np.array(sorted(labels), dtype=np.str_)


def _show(value: object, limit: int = 60) -> str:
    """A value as a message shows it: quoted (text), escaped, clipped; one line whatever it holds."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


class _Source:
    """Where the network comes from, for messages: a file (errors name it and the line) or a graph."""

    def __init__(self, name: str, fmt: str, expected: str, *, text: bool, is_file: bool = True) -> None:
        self.name, self.fmt, self.expected, self.text, self.is_file = name, fmt, expected, text, is_file

    def fail(self, problem: str, line: int | None = None) -> InputError:
        if self.is_file:
            return InputFileError(self.name, problem, line=line)
        return InputError(f"invalid graph: {problem}")


@dataclass
class _Raw:
    """A network as read, before normalization: node ids in first-seen order, their attributes, ties."""

    ids: list[Any] = field(default_factory=list)
    index: dict[Any, int] = field(default_factory=dict)
    attrs: list[Mapping[str, Any]] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)  # where each node's attributes are (or first seen)
    a: list[int] = field(default_factory=list)
    b: list[int] = field(default_factory=list)
    table: str | None = None  # the node table the nodes (and their lines) come from, if any

    def node(self, key: Any, line: int | None = None, attrs: Mapping[str, Any] | None = None) -> int:
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.ids)
            self.ids.append(key)
            self.attrs.append(attrs or {})
            self.lines.append(line)
        return i


# --------------------------------------------------------------------------- entry points


def format_of(path: str | os.PathLike) -> tuple[str, str, str]:
    """(extension, format, what is expected) of a network file, by its extension (case-insensitive)."""
    ext = os.path.splitext(os.fsdecode(path))[1].lower()
    if ext not in FORMATS:
        raise InputFileError(
            shown(path),
            f"unknown network format {ext or '(no extension)'!s}; the extension says the format: "
            + ", ".join(f"{e} ({f})" for e, (f, _) in FORMATS.items()),
        )
    return ext, *FORMATS[ext]


def read_network(net: NetworkConfig) -> EdgeList:
    """The network of ``network.path`` (and the node table ``network.nodes``), read by its format.

    Raises:
        InputFileError: The file (or node table) is missing, not a regular file, too large, not UTF-8
            text, or not a valid file of its format (the message names the line or the node); a node's
            attribute is out of range; groups are given to some nodes but not all.
        ConfigError: A node table with a format whose nodes carry their own attributes.
    """
    path, nodes_path = net.path, net.nodes
    check_file(path)  # a device, a FIFO, a directory: refused as such, whatever its name
    ext, fmt, expected = format_of(path)
    if nodes_path:
        check_file(nodes_path)
    src = _Source(shown(path), fmt, expected, text=True)
    if nodes_path and fmt not in ("CSV", "TSV", "edge list"):
        raise ConfigError(
            "network.nodes",
            nodes_path,
            f"no node table with a {fmt} file (its nodes carry their attributes); a node table goes with a "
            ".csv/.tsv edge table of source,target or a plain edge list",
        )
    if fmt in ("CSV", "TSV"):
        delimiter = "," if fmt == "CSV" else "\t"
        header = _header(path, delimiter)
        if header is not None and set(header) & set(_LEGACY_ONLY):
            if nodes_path:
                raise ConfigError(
                    "network.nodes",
                    nodes_path,
                    f"no node table with {src.name}: its columns {', '.join(_LEGACY_ONLY)} give the groups "
                    "and professions",
                )
            # the original format, read exactly as before (the preflight's test counts these calls)
            rows = inputfiles.parse_edge_list(path) if fmt == "CSV" else inputfiles.parse_edge_list(path, delimiter)
            el = from_edge_rows(rows)
            return el if net.groups in ("auto", "attribute") else _without_groups(el)
        raw = _node_table(nodes_path, net.group_attribute) if nodes_path else None
        raw = _edge_table(src, path, delimiter, raw, nodes_path)
    elif fmt == "edge list":
        raw = _node_table(nodes_path, net.group_attribute) if nodes_path else None
        raw = _plain_edge_list(src, path, raw, nodes_path)
    else:
        graph, lines = _parse_graph(src, path, net.group_attribute)
        raw = _graph_raw(src, graph, lines)
    return _normalize(src, raw, net)


def from_graph(graph: Any, net: NetworkConfig) -> EdgeList:
    """A networkx graph (Graph, DiGraph, MultiGraph or MultiDiGraph) as the model's network.

    Node ids keep their Python type (int stays int, str stays str; anything else becomes its ``str``),
    node attributes are read as from a file (`network.group_attribute`, ``profession``, ``stance``,
    ``literacy``, ``trust``, ``critical``), edges are undirected and merged.

    Raises:
        InputError: Not a networkx graph; fewer than two nodes; a self-loop; two ids with one text; an
            attribute out of range (the message names the node).
    """
    import networkx as nx

    if not isinstance(graph, nx.Graph):
        raise ConfigError("graph", type(graph).__name__, "a networkx graph (networkx.Graph, DiGraph, MultiGraph)")
    src = _Source("graph", "networkx graph", "a networkx graph", text=False, is_file=False)
    return _normalize(src, _graph_raw(src, graph), net)


def from_edge_rows(rows: EdgeRows) -> EdgeList:
    """The original CSV format, as checked by `sim.config.inputfiles.parse_edge_list`, renumbered."""
    node_attr, pairs = rows
    node_labels = label_array(set(node_attr))
    group_labels = label_array({g for g, _, _ in node_attr.values()})
    node_keys = [str(x) for x in node_labels.tolist()]
    index = {lab: i for i, lab in enumerate(node_keys)}
    group_index = {str(x): i for i, x in enumerate(group_labels.tolist())}
    prof_index = {p: i for i, p in enumerate(PROFESSIONS)}
    group = np.array([group_index[node_attr[lab][0]] for lab in node_keys], dtype=np.int32)
    profession = np.array([prof_index[node_attr[lab][1]] for lab in node_keys], dtype=np.int8)

    a = np.fromiter((index[s] for s, _ in pairs), dtype=np.int64, count=len(pairs))
    b = np.fromiter((index[t] for _, t in pairs), dtype=np.int64, count=len(pairs))
    n = node_labels.size
    key = sorted_unique(np.minimum(a, b) * np.int64(n) + np.maximum(a, b))
    return EdgeList(
        u=key // n,
        v=key % n,
        group=group,
        profession=profession,
        node_labels=node_labels,
        group_labels=group_labels,
    )


def _without_groups(el: EdgeList) -> EdgeList:
    import dataclasses

    return dataclasses.replace(el, group=None, group_labels=None)


# --------------------------------------------------------------------------- tables (CSV, TSV)


def _header(path: str | os.PathLike, delimiter: str) -> list[str] | None:
    """The first non-blank record of a CSV/TSV file (None if it has none); the file is read no further."""
    with inputfiles.csv_records(path, delimiter) as records:
        first = next(records, None)
    return None if first is None else first[2]


def _delimiter_of(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in NODE_TABLE_FORMATS:
        raise InputFileError(
            shown(path), f"unknown node-table format {ext or '(no extension)'}; allowed: .csv, .tsv (or .tab)"
        )
    return "," if ext == ".csv" else "\t"


def _width(name: str, row: list[str], width: int, line: int, end: int) -> None:
    if len(row) != width:
        spans = f" in the record of lines {line}-{end} (a quote left open?)" if end > line else ""
        raise InputFileError(name, f"expected {width} fields as in the header, found {len(row)}{spans}", line=line)


def _node_table(path: str, group_attribute: str) -> _Raw:
    """The node table: ids (unique) and, where its cells are not empty, their attributes."""
    name = shown(path)
    delimiter = _delimiter_of(path)
    raw = _Raw(table=name)
    wanted = (group_attribute, "profession", "stance", *TRAITS)
    with inputfiles.csv_records(path, delimiter) as records:
        first = next(records, None)
        if first is None:
            raise InputFileError(name, "file is empty (or blank); expected a header with a column id")
        header_line, _, header = first
        cols = header_columns(name, header_line, header, ("id",), "a node table")
        at = {k: cols[k] for k in wanted if k in cols}
        for line, end, row in records:
            _width(name, row, len(header), line, end)
            node = row[cols["id"]]
            if not node:
                raise InputFileError(name, "empty id", line=line)
            if node in raw.index:
                raise InputFileError(
                    name, f"node {_show(node)} again (first on line {raw.lines[raw.index[node]]})", line=line
                )
            raw.node(node, line, {k: row[i] for k, i in at.items() if row[i]})
    if not raw.ids:
        raise InputFileError(name, f"no nodes after the header on line {header_line}")
    return raw


def _edge_table(src: _Source, path: str, delimiter: str, table: _Raw | None, nodes_path: str) -> _Raw:
    """An edge table of source,target (other columns ignored), onto the node table's nodes if given."""
    raw = table if table is not None else _Raw()
    fixed = table is not None
    with inputfiles.csv_records(path, delimiter) as records:
        first = next(records, None)
        if first is None:
            raise InputFileError(
                src.name, f"file is empty (or blank); expected a header with columns {', '.join(EDGE_TABLE_COLUMNS)}"
            )
        header_line, _, header = first
        cols = header_columns(
            src.name,
            header_line,
            header,
            EDGE_TABLE_COLUMNS,
            f"an edge table; with {', '.join(_LEGACY_ONLY)} also the groups and professions",
        )
        si, ti = cols["source"], cols["target"]
        for line, end, row in records:
            _width(src.name, row, len(header), line, end)
            _tie(src, raw, row[si], row[ti], line, fixed, nodes_path)
    if not raw.ids:
        raise InputFileError(src.name, f"no edges after the header on line {header_line}")
    return raw


def _tie(src: _Source, raw: _Raw, s: str, t: str, line: int, fixed: bool, nodes_path: str) -> None:
    for end, node in (("source", s), ("target", t)):
        if not node:
            raise src.fail(f"empty {end}", line)
        if fixed and node not in raw.index:
            raise src.fail(f"node {_show(node)} is not in the node table {shown(nodes_path)}", line)
    if s == t:
        raise src.fail(f"self-loop on node {_show(s)}", line)
    raw.a.append(raw.node(s, line))
    raw.b.append(raw.node(t, line))


# --------------------------------------------------------------------------- plain edge lists


def _plain_edge_list(src: _Source, path: str, table: _Raw | None, nodes_path: str) -> _Raw:
    raw = table if table is not None else _Raw()
    fixed = table is not None
    with text_lines(path) as lines:
        for n, text in enumerate(lines, start=1):
            fields = text.split("#", 1)[0].split()
            if not fields:
                continue
            if len(fields) == 1:  # a node without ties
                if fixed and fields[0] not in raw.index:
                    raise src.fail(f"node {_show(fields[0])} is not in the node table {shown(nodes_path)}", n)
                raw.node(fields[0], n)
                continue
            _tie(src, raw, fields[0], fields[1], n, fixed, nodes_path)
    if not raw.ids:
        raise src.fail(f"no ties or nodes; expected {src.expected}")
    return raw


# --------------------------------------------------------------------------- graph formats (networkx)

_POSITION = re.compile(r"line (\d+)|at \((\d+), \d+\)")


def _parse_graph(src: _Source, path: str, group_attribute: str) -> tuple[Any, dict[Any, int]]:
    """The file's text, checked line by line, parsed by networkx; any failure is one line with its cause.

    Returns the graph and, where known (Pajek), the line of each node's vertex line, for messages.
    """
    import io

    import networkx as nx

    with text_lines(path) as lines:
        raw = list(lines)
    text = "".join(raw)
    where: dict[Any, int] = {}
    if src.fmt == "Pajek":  # networkx names no line: the walk names it, and refuses what networkx would misread
        physical = [line.rstrip("\r\n") for line in raw]  # item k-1 is line k of the file
        where = _pajek_check(src, physical, (group_attribute, "profession", "stance", *TRAITS))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # networkx warns of attributes it skips (Pajek)
            if src.fmt == "GraphML":
                return nx.parse_graphml(text), where
            if src.fmt == "GEXF":
                return nx.read_gexf(io.BytesIO(text.encode("utf-8"))), where
            if src.fmt == "GML":
                return _gml(nx.parse_gml(text.splitlines(), label=None)), where
            return nx.parse_pajek(physical), where
    except RecursionError:
        raise src.fail(f"unreadable {src.fmt}: nested too deeply; expected {src.expected}") from None
    except Exception as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        position = getattr(exc, "position", None)
        line = position[0] if isinstance(position, tuple) and position else None
        if line is None and (m := _POSITION.search(message)):
            line = int(m.group(1) or m.group(2))
        if len(message) > 200:
            message = message[:200] + "..."
        raise src.fail(
            f"unreadable {src.fmt} ({type(exc).__name__}: {message}); expected {src.expected}", line
        ) from None


def _pajek_check(src: _Source, lines: list[str], keys: Sequence[str]) -> dict[str, int]:
    """Walks a Pajek file as `networkx.parse_pajek` reads it; refuses, naming the line, what it would fail on.

    networkx reads ``*Vertices N`` and the N lines after it as vertices (``number label [x y shape]
    [key value ...]``), then every line after ``*Edges``/``*Arcs`` as a tie (or the rows of a
    ``*Matrix``); it names no line when it fails, and reads some mistakes as a different network
    without a word: a tie to a vertex number no vertex line declares (a new node), two vertices with one
    label (one node), a node attribute where networkx does not look for one (dropped), a section after
    the ties (read as ties). Each of these is refused here with its line. Returns the line of each label.
    """
    import shlex

    def fail(problem: str, line: int) -> InputError:
        return src.fail(f"{problem}; expected {src.expected}", line)

    def fields(n: int, text: str) -> list[str]:
        try:
            return shlex.split(text)
        except ValueError as exc:  # a quote left open, a backslash at the end
            raise fail(f"{str(exc).lower()} in {_show(text.strip())}", n) from None

    where: dict[str, int] = {}  # label -> its vertex line
    labels: list[str] = []  # in file order (the rows and columns of a *Matrix)
    numbers: dict[str, str] = {}  # vertex number -> label, of the last *Vertices section
    announced: tuple[int, int] | None = None  # (N, line) of the last *Vertices
    rows = enumerate(lines, start=1)
    for n, text in rows:
        low = text.lower()
        if low.startswith("*network"):
            continue
        if low.startswith("*vertices"):
            parts = text.split()
            count = int(parts[1]) if len(parts) == 2 and re.fullmatch(r"\+?\d+", parts[1]) else None
            if count is None:
                raise fail(f"{_show(text.strip())}: the line announcing vertices is '*Vertices N'", n)
            numbers, announced = {}, (count, n)
            for i in range(count):
                m, vertex = next(rows, (None, ""))
                if m is None:
                    raise fail(f"the file ends after {i:,} of the {count:,} vertex lines *Vertices announces", n)
                f = fields(m, vertex)
                if len(f) < 2:
                    which = f"vertex {i + 1:,} of the {count:,} that *Vertices announces on line {n}"
                    if not f:
                        raise fail(f"a blank line where {which} was expected", m)
                    if f[0].startswith("*"):
                        raise fail(f"{_show(f[0])} where {which} was expected", m)
                    raise fail(f"vertex line {_show(vertex.strip())} has no label ({which})", m)
                number, label = f[0], f[1]
                if number in numbers:
                    raise fail(f"vertex number {_show(number)} again (first on line {where[numbers[number]]})", m)
                if label in where:
                    raise fail(f"node {_show(label)} again (first on line {where[label]}): one label per vertex", m)
                for j in range(2, len(f)):  # networkx reads 'key value' pairs from field 6 on, nothing before
                    if f[j] in keys and j < 5:
                        raise fail(
                            f"node {_show(label)}: {f[j]!r} in field {j + 1} is not read (after 'number label' "
                            "come 'x y shape', then 'key value' pairs)",
                            m,
                        )
                    if f[j] in keys and j % 2 == 1 and j == len(f) - 1:
                        raise fail(f"node {_show(label)}: {f[j]!r} without a value", m)
                numbers[number] = label
                where[label] = m
                labels.append(label)
            continue
        head = text.split()[0] if text.split() else ""
        if low.startswith(("*edges", "*arcs", "*matrix")):
            if head.lower() not in ("*edges", "*arcs", "*matrix"):  # *Edgeslist, *Arcslist
                raise fail(f"section {_show(head)} is not read (only *Edges, *Arcs or *Matrix)", n)
            if announced is None:
                raise fail(f"{head} before any *Vertices line", n)
            if head.lower() == "*matrix":
                _pajek_matrix(fail, rows, labels)
            else:
                _pajek_ties(fail, fields, rows, numbers, where, announced)
            break  # networkx reads every line after the section's head into it
        stripped = text.strip()
        if not stripped or stripped.startswith("%"):  # networkx skips what is outside a section
            continue
        if stripped.startswith("*"):
            raise fail(f"section {_show(stripped.split()[0])} is not read (only *Vertices, *Edges, *Arcs, *Matrix)", n)
        if announced is None:
            raise fail(f"{_show(stripped)} before any *Vertices line", n)
        raise fail(
            f"{_show(stripped)} after the {announced[0]:,} vertex lines *Vertices announces on line {announced[1]}", n
        )
    return where


def _pajek_ties(
    fail: Any, fields: Any, rows: Any, numbers: dict[str, str], labels: Mapping[str, int], announced: tuple[int, int]
) -> None:
    """The ties of a Pajek *Edges / *Arcs section: two vertices each, by number or label (as networkx reads them)."""
    for n, text in rows:
        f = fields(n, text)
        if not f or (len(f) == 1 and f[0].lower() in ("*edges", "*arcs")):  # networkx skips these
            continue
        if f[0].startswith("*"):
            raise fail(f"section {_show(f[0])} after the ties (networkx would read it as a tie): ties come last", n)
        if len(f) < 2:
            raise fail(f"a tie with one vertex ({_show(f[0])})", n)
        ends = []
        for x in f[:2]:
            label = numbers.get(x, x if x in labels else None)
            if label is None:
                raise fail(
                    f"a tie to vertex {_show(x)}, which none of the {announced[0]:,} vertex lines after *Vertices "
                    f"(line {announced[1]}) declares",
                    n,
                )
            ends.append(label)
        if ends[0] == ends[1]:
            raise fail(f"self-loop on node {_show(ends[0])}", n)


def _pajek_matrix(fail: Any, rows: Any, labels: list[str]) -> None:
    """The rows of a Pajek *Matrix: integers, nonzero only within the vertices, none on the diagonal."""
    for row, (n, text) in enumerate(rows):
        for col, x in enumerate(text.split()):
            try:
                value = int(x)
            except ValueError:
                raise fail(f"matrix entry {_show(x)} in column {col + 1} is not an integer", n) from None
            if value == 0:
                continue
            if row >= len(labels) or col >= len(labels):
                raise fail(f"a tie in row {row + 1:,}, column {col + 1:,}: beyond the {len(labels):,} vertices", n)
            if row == col:
                raise fail(f"self-loop on node {_show(labels[row])}", n)


def _gml(graph: Any) -> Any:
    """GML nodes by their labels when every node has a distinct one (as networkx reads GML), else by id."""
    import networkx as nx

    labels = [d.get("label") for _, d in graph.nodes(data=True)]
    if labels and all(isinstance(x, str) and x for x in labels) and len(set(labels)) == len(labels):
        return nx.relabel_nodes(graph, dict(zip(graph.nodes, labels, strict=True)))
    return graph


def _graph_raw(src: _Source, graph: Any, lines: Mapping[Any, int] | None = None) -> _Raw:
    """The nodes (with their line, where `lines` knows it) and ties of a networkx graph."""
    raw = _Raw()
    for node, data in graph.nodes(data=True):
        raw.node(node, lines.get(node) if lines else None, data)
    for s, t in graph.edges():
        if s == t:
            raise src.fail(f"self-loop on node {_show(s)}")
        raw.a.append(raw.index[s])
        raw.b.append(raw.index[t])
    if not raw.ids:
        raise src.fail(f"no nodes; expected {src.expected}")
    return raw


# --------------------------------------------------------------------------- normalization


def _typed(values: Sequence[Any], text: bool) -> np.ndarray:
    """Ids or labels with their type: int64 if every one is an integer (from text: written canonically), else str."""
    ints: list[int] = []
    for x in values:
        if isinstance(x, bool | np.bool_):
            break
        if isinstance(x, int | np.integer):
            i = int(x)
        elif text and isinstance(x, str):
            try:
                i = int(x)
            except ValueError:
                break
            if str(i) != x:
                break
        else:
            break
        if not -(2**63) <= i < 2**63:
            break
        ints.append(i)
    else:
        return np.array(ints, dtype=np.int64)
    return np.array([x if isinstance(x, str) else str(x) for x in values], dtype=np.str_)


def _sorted_labels(src: _Source, values: Sequence[Any], what: str) -> tuple[np.ndarray, np.ndarray]:
    """(labels sorted, rank of each value): refused if two distinct values read as one label."""
    labels = _typed(values, src.text)
    order = np.argsort(labels, kind="stable")
    ranked = labels[order]
    if ranked.size > 1:
        same = np.flatnonzero(ranked[1:] == ranked[:-1])
        if same.size:
            x, y = values[order[same[0]]], values[order[same[0] + 1]]
            raise src.fail(f"{what}s {_show(x)} and {_show(y)} both read as {_show(ranked[same[0]].item())}")
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values), dtype=np.int64)
    return ranked, rank


def _missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and math.isnan(value))
    )


def _node_error(src: _Source, raw: _Raw, i: int, problem: str) -> InputError:
    """A refusal about node `i`: names the node, and its file and line where they are known."""
    what = f"node {_show(raw.ids[i])}{problem}"
    if raw.table is not None:  # its attributes come from the node table
        return InputFileError(raw.table, what, line=raw.lines[i])
    return src.fail(what, raw.lines[i])


def _fraction(src: _Source, raw: _Raw, key: str, out_name: str) -> np.ndarray | None:
    """A [0, 1] attribute of every node (NaN where not given); None if no node has it."""
    values = np.full(len(raw.ids), np.nan)
    seen = False
    for i, attrs in enumerate(raw.attrs):
        x = attrs.get(key)
        if _missing(x):
            continue
        try:
            f = (
                float(x)
                if not isinstance(x, bool | np.bool_) and isinstance(x, str | int | float | np.number)
                else None
            )
        except ValueError:
            f = None
        if f is None or not 0.0 <= f <= 1.0:  # also NaN, inf
            raise _node_error(src, raw, i, f": {out_name} {_show(x)}; allowed: a number in [0, 1]")
        values[i] = f
        seen = True
    return values if seen else None


def _normalize(src: _Source, raw: _Raw, net: NetworkConfig) -> EdgeList:
    n = len(raw.ids)
    if n < 2:
        raise src.fail(f"a network needs at least 2 nodes, found {n}; expected {src.expected}")
    node_labels, rank = _sorted_labels(src, raw.ids, "node")
    order = np.argsort(rank)  # old index of each agent
    a = rank[np.asarray(raw.a, dtype=np.int64)]
    b = rank[np.asarray(raw.b, dtype=np.int64)]
    key = sorted_unique(np.minimum(a, b) * np.int64(n) + np.maximum(a, b))

    group, group_labels = _groups(src, raw, net)
    if group is not None:
        group = group[order]
    prof_index = {p: i for i, p in enumerate(PROFESSIONS)}
    profession = np.full(n, -1, dtype=np.int8)
    for i, attrs in enumerate(raw.attrs):
        x = attrs.get("profession")
        if _missing(x):
            continue
        code = prof_index.get(x.strip()) if isinstance(x, str) else None
        if code is None:
            raise _node_error(src, raw, i, f": profession {_show(x)}; allowed: {', '.join(PROFESSIONS)}")
        profession[i] = code
    stance = _fraction(src, raw, "stance", "stance")
    traits = {t: v[order] for t in TRAITS if (v := _fraction(src, raw, t, t)) is not None}
    return EdgeList(
        u=key // n,
        v=key % n,
        group=group,
        profession=profession[order],
        node_labels=node_labels,
        group_labels=group_labels,
        stance=None if stance is None else stance[order],
        traits=traits,
    )


def _groups(src: _Source, raw: _Raw, net: NetworkConfig) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Group id per node (in read order) and the sorted labels, from the group attribute; None if not used."""
    if net.groups in ("one", "louvain"):
        return None, None
    name = net.group_attribute
    values = [attrs.get(name) for attrs in raw.attrs]
    given = [not _missing(x) for x in values]
    if not any(given):
        if net.groups == "attribute":
            raise src.fail(
                f"no node has a {name!r} attribute (network.groups=attribute); give each node a group, "
                "or choose network.groups=one or network.groups=louvain"
            )
        return None, None
    if not all(given):
        raise _node_error(
            src,
            raw,
            given.index(False),
            f" has no {name!r} ({sum(given):,} of {len(given):,} nodes have one): give every node a group, "
            "or choose network.groups=one or network.groups=louvain",
        )
    first: dict[Any, int] = {}
    codes = np.empty(len(values), dtype=np.int64)
    for i, x in enumerate(values):
        x = x.strip() if isinstance(x, str) else x if isinstance(x, int | str | np.integer) else str(x)
        codes[i] = first.setdefault(x, len(first))
    labels, rank = _sorted_labels(src, list(first), "group label")
    return rank[codes].astype(np.int32), labels
