"""Fuzzing the edge-list reader: any file is read correctly or refused with one line naming the file.

Two properties, on files written to disk and read by `read_edge_list` itself:
- a valid network, however it is spelled (column order, extra columns, quoting, padding, BOM, LF,
  CRLF or CR line ends, blank lines, repeated ties, any Unicode label), is read as written;
- a malformed file (random bytes, NULs, truncated lines, wrong column counts, stray quotes, lines in
  Latin-1 or UTF-16 among UTF-8 ones) gives a valid network or an `InputFileError` whose message is one
  line naming the file, never another exception.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config.errors import InputFileError
from sim.config.params import PROFESSIONS
from sim.core.network import EdgeList, read_edge_list

COLUMNS = ("source", "target", "source_group", "target_group", "source_profession", "target_profession")
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# labels as the reader keeps them: not empty, no surrounding whitespace (fields are stripped), any other
# character but NUL (refused) and lone surrogates (not encodable in UTF-8)
labels = st.one_of(
    st.integers(-5, 40).map(str),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=6),
).filter(lambda s: s == s.strip() and s != "")


@st.composite
def networks(draw) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]]]:
    """Nodes with their group and profession, and ties (repeats and reversed repeats included)."""
    names = draw(st.lists(labels, min_size=2, max_size=12, unique=True))
    groups = draw(st.lists(labels, min_size=1, max_size=3, unique=True))
    nodes = {n: (draw(st.sampled_from(groups)), draw(st.sampled_from(PROFESSIONS))) for n in names}
    pairs = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names)), min_size=1, max_size=25))
    pairs = [(s, t) for s, t in pairs if s != t] or [(names[0], names[1])]
    used = {n for pair in pairs for n in pair}  # a file names only the nodes on its ties
    return {n: a for n, a in nodes.items() if n in used}, pairs


@st.composite
def csv_files(draw) -> tuple[bytes, dict[str, tuple[str, str]], list[tuple[str, str]]]:
    """A valid network written in one of the many ways a user's tool may write it."""
    nodes, pairs = draw(networks())
    cols = list(COLUMNS) + draw(st.sampled_from([[], ["weight"], ["weight", "note"]]))
    cols = draw(st.permutations(cols))
    text = "".join(nodes) + "".join(g for g, _ in nodes.values())
    quoting = (
        csv.QUOTE_ALL if "\r" in text or "\n" in text else draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    )
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    pad = draw(st.sampled_from(["", " ", "\t"]))
    buf = io.StringIO(newline="")
    out = csv.writer(buf, quoting=quoting, lineterminator=ending)
    out.writerow(cols)
    for i, (s, t) in enumerate(pairs):
        value = {"source": s, "target": t, "weight": "1.5", "note": "x, y"}
        value |= {"source_group": nodes[s][0], "target_group": nodes[t][0]}
        value |= {"source_profession": nodes[s][1], "target_profession": nodes[t][1]}
        out.writerow([pad + value[c] + pad for c in cols])
        if draw(st.booleans()) and i % 3 == 0:
            buf.write(ending)  # a blank line
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + buf.getvalue()).encode("utf-8"), nodes, pairs


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "net.csv"


def assert_valid(el: EdgeList) -> None:
    n = el.n_nodes
    assert n >= 2 and el.group.shape == el.profession.shape == (n,)
    assert el.u.dtype == el.v.dtype == np.int64 and el.u.size >= 1
    assert np.all(el.u < el.v) and el.u.min() >= 0 and el.v.max() < n
    assert np.all(np.diff(el.u * n + el.v) > 0)  # sorted, no repeats
    assert el.group.min() >= 0 and el.group.max() < el.group_labels.size
    assert set(el.profession.tolist()) <= set(range(len(PROFESSIONS)))


def read_or_refuse(path, data: bytes) -> EdgeList | None:
    """The property: a valid network, or an InputFileError of one line naming the file."""
    path.write_bytes(data)
    try:
        el = read_edge_list(path)
    except InputFileError as err:
        msg = str(err)
        assert msg.startswith(f"invalid input file {path}"), msg
        assert len(msg.splitlines()) == 1 and "\r" not in msg and "\n" not in msg, msg
        assert len(msg) < 1000, msg  # values are clipped
        return None
    assert_valid(el)
    return el


@SETTINGS
@given(file=csv_files())
def test_a_valid_network_is_read_as_written(scratch, file):
    data, nodes, pairs = file
    el = read_or_refuse(scratch, data)
    assert el is not None, "a valid file was refused"
    names = [str(x) for x in el.node_labels.tolist()]
    assert sorted(names) == sorted(nodes)
    assert {frozenset((names[a], names[b])) for a, b in zip(el.u.tolist(), el.v.tolist(), strict=True)} == {
        frozenset(p) for p in pairs
    }
    for i, name in enumerate(names):
        assert str(el.group_labels[el.group[i]]) == nodes[name][0]
        assert PROFESSIONS[el.profession[i]] == nodes[name][1]


def _mutate(data: bytes, ops: list[tuple[str, int, bytes]]) -> bytes:
    for op, at, chunk in ops:
        at = at % (len(data) + 1)
        if op == "insert":
            data = data[:at] + chunk + data[at:]
        elif op == "delete":
            data = data[:at] + data[at + len(chunk) :]
        elif op == "truncate":
            data = data[:at]
        elif op == "at_field_end":  # before the k-th comma or line end: a NUL there once gave a KeyError
            ends = [i for i, b in enumerate(data) if b in b",\r\n"] or [len(data)]
            at = ends[at % len(ends)]
            data = data[:at] + chunk + data[at:]
        elif op == "recode":  # the rest of the line from here in another encoding
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            text = data[at:end].decode("utf-8", "replace")
            data = data[:at] + text.encode(chunk.decode() or "latin-1", "replace") + data[end:]
    return data


noise = st.one_of(
    st.sampled_from([b"\x00", b",", b'"', b"\n", b"\r", b"\r\n", b"\xff", b"\xe9", b"\xc3", b"\xef\xbb\xbf"]),
    st.binary(min_size=1, max_size=8),
)
ops = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["insert", "at_field_end"]), st.integers(0, 10**4), noise),
        st.tuples(st.just("delete"), st.integers(0, 10**4), st.binary(min_size=1, max_size=6)),
        st.tuples(st.just("truncate"), st.integers(0, 10**4), st.just(b"")),
        st.tuples(st.just("recode"), st.integers(0, 10**4), st.sampled_from([b"latin-1", b"utf-16", b"cp1252"])),
    ),
    min_size=1,
    max_size=4,
)
header = ",".join(COLUMNS).encode() + b"\n"


@SETTINGS
@given(
    data=st.one_of(
        st.binary(max_size=300),  # anything at all
        st.binary(max_size=300).map(lambda b: header + b),  # anything after a good header
        st.tuples(csv_files(), ops).map(lambda x: _mutate(x[0][0], x[1])),  # a good file, damaged
        st.tuples(csv_files(), st.integers(0, 10**4), st.sampled_from([b"\x00", b"\xff", b"\x00\n", b"\xfe\xff"])).map(
            lambda x: _mutate(x[0][0], [("at_field_end", x[1], x[2])])  # a bad byte in a field
        ),
    )
)
def test_a_malformed_file_is_read_or_refused_in_one_line(scratch, data):
    read_or_refuse(scratch, data)
