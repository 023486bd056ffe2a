"""User files the config names: each is read correctly or refused with one line.

The model reads the user's network (``network=edgelist network.path=FILE``, and an optional node table
``network.nodes``), in any of the formats of `sim.config.networkfiles`, which reads every one of them
through this module. Its text goes through `text_lines`, which opens a file only when `os.stat` says it
is a regular file of at most `MAX_FILE_BYTES` (so ``/dev/zero``, a FIFO or a directory is never read), and hands on its
physical lines one by one, each checked first: UTF-8 (a byte-order mark is allowed), no NUL byte, at
most `MAX_LINE_CHARS` characters; `csv_records` reads CSV or TSV records from those lines.
`parse_edge_list` is the whole check of an edge-list file in the CSV format with groups and professions:
``sim.core.network.read_edge_list`` builds the network from what it returns, and the preflight
(``sim.config.preflight``) runs it before Hydra starts, so a bad file is refused before a run
directory exists. It lives here, below ``sim.core``, because the preflight may import only from
``sim.config`` (the layer contracts in pyproject.toml).

Every refusal is an `InputFileError` naming the file and, where it applies, the line, the value (quoted,
escaped and clipped, so a message is always one line) and what is allowed.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import os
import re
import stat
from collections.abc import Iterator, Sequence
from typing import NamedTuple, TextIO

from sim.config.errors import InputFileError
from sim.config.params import PROFESSIONS

__all__ = [
    "EDGE_LIST_COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_LINE_CHARS",
    "EdgeRows",
    "check_file",
    "csv_records",
    "parse_edge_list",
    "shown",
    "text_lines",
]

#: Largest input file read, in bytes (1 GiB), checked with os.stat before the file is opened.
#: The bound is the reader's memory, not the disk: the edge-list reader holds about 7 bytes of
#: Python objects per byte of CSV (280 bytes per tie), so 1 GiB (some 25 million ties at ~45 bytes
#: a line) takes about 7 GiB of memory and several minutes. A 50-million-agent network does not
#: fit: it has at least 25 million ties (each agent on one) and some 250 million at mean degree 10,
#: about 11 GB of CSV and 75 GB of memory in this reader; networks that large are built by the
#: generators (``network=sbm``, ``small_world``), whose cost is the model's own 16 bytes per tie.
#: On a machine with the memory for it, raise this constant.
MAX_FILE_BYTES = 1 << 30

#: Longest physical line, in characters with its line end: far above any sensible row, yet bounded,
#: so a file of one endless line (or millions of fields on one line) is refused, not held in memory.
MAX_LINE_CHARS = 1 << 20

#: Columns an edge-list file must have, in any order; other columns are ignored.
EDGE_LIST_COLUMNS: tuple[str, ...] = (
    "source",
    "target",
    "source_group",
    "target_group",
    "source_profession",
    "target_profession",
)

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)
# No blocking on a FIFO swapped in between os.stat and open (fstat then refuses it); binary on Windows.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
# Text is decoded with errors="surrogateescape": a byte that is not UTF-8 becomes U+DC80..U+DCFF (which
# strict UTF-8 never yields), so it is found on its own line, as a NUL is, and named with its line.
_BAD_CHAR = re.compile("[\x00\udc80-\udcff]")


def shown(path: str | os.PathLike) -> str:
    """The path as a message shows it: as given, or quoted with escapes when it holds a control character."""
    text = os.fsdecode(path)
    return text if text.isprintable() else repr(text)


def _show(value: str, limit: int = 60) -> str:
    """A value from the file as a message shows it: quoted, escaped (never a line break), clipped."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value):,} characters)"


def _size(n: int) -> str:
    return f"{n:,} bytes ({n / 2**30:.1f} GiB)" if n >= 2**30 else f"{n:,} bytes"


def _reason(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def _check_stat(name: str, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = next((what for test, what in _KINDS if test(st.st_mode)), "a special file")
        raise InputFileError(name, f"not a regular file but {kind}; give the path of a CSV file")
    if st.st_size > MAX_FILE_BYTES:
        raise InputFileError(
            name,
            f"file of {_size(st.st_size)} is over the limit for an input file, {_size(MAX_FILE_BYTES)} "
            "(MAX_FILE_BYTES in sim/config/inputfiles.py)",
        )


def check_file(path: str | os.PathLike) -> os.stat_result:
    """``os.stat`` of a user file that may be read: it exists, is regular and at most `MAX_FILE_BYTES` long.

    Raises:
        InputFileError: Missing, not reachable (permissions, a NUL or a loop in the path), not a regular
            file (a directory, a device, a FIFO, a socket), or too large.
    """
    name = shown(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputFileError(name, "file not found") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise InputFileError(name, f"cannot open file: {_reason(exc)}") from None
    _check_stat(name, st)
    return st


@contextlib.contextmanager
def text_lines(path: str | os.PathLike) -> Iterator[Iterator[str]]:
    """The physical lines of a user's text file, each checked before it is handed on.

    Lines keep their line ends (LF, CRLF or CR), as `csv.reader` expects of a file
    opened with ``newline=""``; a leading byte-order mark is dropped. Line ``k`` of the iterator is
    line ``k`` of the file, so `csv.reader`'s ``line_num`` names physical lines.

    Raises:
        InputFileError: Anything `check_file` refuses; then, while iterating, a NUL byte, a byte that is
            not UTF-8, a line longer than `MAX_LINE_CHARS`, more text than `MAX_FILE_BYTES` (a file that
            grows while read) or a read error, each with its line.
    """
    name = shown(path)
    check_file(path)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise InputFileError(name, f"cannot open file: {_reason(exc)}") from None
    try:
        _check_stat(name, os.fstat(fd))  # the file opened is the one checked, not one swapped in since
        fh = open(fd, encoding="utf-8-sig", errors="surrogateescape", newline="")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        yield _checked(fh, name)


def _checked(fh: TextIO, name: str) -> Iterator[str]:
    total = n = 0
    readline = fh.readline
    while True:
        try:
            line = readline(MAX_LINE_CHARS + 1)
        except OSError as exc:
            raise InputFileError(name, f"read error: {_reason(exc)}", line=n + 1) from None
        if not line:
            return
        n += 1
        if len(line) > MAX_LINE_CHARS:
            raise InputFileError(name, f"line longer than {MAX_LINE_CHARS:,} characters", line=n)
        total += len(line)
        if total > MAX_FILE_BYTES:
            raise InputFileError(
                name, f"more than {_size(MAX_FILE_BYTES)} read: the file grew while it was read", line=n
            )
        bad = _BAD_CHAR.search(line)
        if bad:
            raise InputFileError(name, _bad_char(line, bad.start()), line=n)
        yield line


def _bad_char(line: str, at: int) -> str:
    where = f"column {at + 1}"
    if line[at] == "\x00":
        return f"NUL byte at {where}: an input file must be UTF-8 text (is it binary, or UTF-16? save it as UTF-8)"
    byte = ord(line[at]) - 0xDC00
    return (
        f"byte 0x{byte:02x} at {where} is not UTF-8: an input file must be UTF-8 text "
        "(is it binary, or Latin-1 or UTF-16? save it as UTF-8)"
    )


# --------------------------------------------------------------------------- edge lists


class EdgeRows(NamedTuple):
    """An edge-list file as checked text: its nodes with their attributes and its ties, in file order.

    Attributes:
        nodes: Node label -> (group label, profession, 1-based line where the node first appears).
        pairs: (source, target) labels of every row, repeats included.
    """

    nodes: dict[str, tuple[str, str, int]]
    pairs: list[tuple[str, str]]


@contextlib.contextmanager
def csv_records(path: str | os.PathLike, delimiter: str = ",") -> Iterator[Iterator[tuple[int, int, list[str]]]]:
    """The non-blank records of a CSV (or, with a tab as ``delimiter``, TSV) file, from `text_lines`.

    Each record is ``(first line, last line, fields)``: its 1-based physical lines (a quoted field may
    span lines) and its fields stripped of surrounding whitespace; records whose fields are all empty
    are skipped.

    Raises:
        InputFileError: Anything `text_lines` refuses; unreadable CSV (such as a field over csv's field
            limit), with its line.
    """
    name = shown(path)
    with text_lines(path) as lines:
        reader = csv.reader(lines, delimiter=delimiter)
        last_line = 0

        def rows() -> Iterator[tuple[int, int, list[str]]]:
            nonlocal last_line
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise InputFileError(name, f"unreadable CSV: {exc}", line=last_line + 1) from None
                start, last_line = last_line + 1, reader.line_num
                row = [f.strip() for f in row]
                if any(row):
                    yield start, last_line, row

        yield rows()


def parse_edge_list(path: str | os.PathLike, delimiter: str = ",") -> EdgeRows:
    """Read and check a user's network CSV, failing loudly on anything ambiguous.

    The file needs a header with `EDGE_LIST_COLUMNS` in any order; other columns (such as ``weight``)
    are ignored. Fields are stripped of surrounding whitespace; blank lines are skipped. Errors carry
    the 1-based physical line of the file (a quoted field may span lines: a record's first line).
    A tab as ``delimiter`` reads the same columns from a TSV file.

    Raises:
        InputFileError: Anything `text_lines` refuses; unreadable CSV (such as a field over csv's field
            limit); no header, a duplicate or missing column; a row with the wrong number of fields, an
            empty node or group, an unknown profession, a self-loop, a node given two groups or
            professions; no edges at all.
    """
    name = shown(path)
    with csv_records(path, delimiter) as it:
        first = next(it, None)
        if first is None:
            raise InputFileError(
                name, f"file is empty (or blank); expected a header with columns {', '.join(EDGE_LIST_COLUMNS)}"
            )
        header_line, _, header = first
        return _parse_rows(name, header_line, header, it)


def header_columns(name: str, line: int, header: list[str], required: Sequence[str], what: str = "") -> dict[str, int]:
    """Each column's index in a table's header; refused in one line (no header, a duplicate, a missing column)."""
    counts = collections.Counter(header)
    missing = [c for c in required if c not in counts]
    if len(missing) == len(required):
        kind = f"{what}; " if what else ""
        raise InputFileError(
            name,
            f"no header: required columns: {', '.join(required)} ({kind}the first non-blank line is the header)",
            line=line,
        )
    dup = sorted(c for c, k in counts.items() if k > 1)
    if dup:
        more = f" and {len(dup) - 10} more" if len(dup) > 10 else ""
        raise InputFileError(name, f"duplicate column(s) {', '.join(_show(c) for c in dup[:10])}{more}", line=line)
    if missing:
        raise InputFileError(
            name, f"missing column(s) {', '.join(missing)}; required columns: {', '.join(required)}", line=line
        )
    return {c: i for i, c in enumerate(header)}


def _parse_rows(name: str, header_line: int, header: list[str], it: Iterator[tuple[int, int, list[str]]]) -> EdgeRows:
    header_columns(name, header_line, header, EDGE_LIST_COLUMNS)
    width = len(header)
    si, ti, sgi, tgi, spi, tpi = (header.index(c) for c in EDGE_LIST_COLUMNS)
    nodes: dict[str, tuple[str, str, int]] = {}
    pairs: list[tuple[str, str]] = []
    for line, end, row in it:
        if len(row) != width:
            spans = f" in the record of lines {line}-{end} (a quote left open?)" if end > line else ""
            raise InputFileError(name, f"expected {width} fields as in the header, found {len(row)}{spans}", line=line)
        s, t, sg, tg, sp, tp = row[si], row[ti], row[sgi], row[tgi], row[spi], row[tpi]
        if not (s and t and sg and tg and sp in PROFESSIONS and tp in PROFESSIONS and s != t):
            _refuse_row(name, line, s, t, sg, tg, sp, tp)
        for node, grp, prof in ((s, sg, sp), (t, tg, tp)):
            seen = nodes.get(node)
            if seen is None:
                nodes[node] = (grp, prof, line)
            elif seen[0] != grp or seen[1] != prof:
                what, old, new = ("group", seen[0], grp) if seen[0] != grp else ("profession", seen[1], prof)
                raise InputFileError(
                    name,
                    f"node {_show(node)} has {what} {_show(new)} here but {what} {_show(old)} on line {seen[2]}",
                    line=line,
                )
        pairs.append((s, t))
    if not pairs:
        raise InputFileError(name, f"no edges after the header on line {header_line}")
    return EdgeRows(nodes, pairs)


def _refuse_row(name: str, line: int, s: str, t: str, sg: str, tg: str, sp: str, tp: str) -> None:
    """Raise for the first problem of a row that fails the fast check (ends in order: source, target)."""
    for end, node, grp, prof in (("source", s, sg, sp), ("target", t, tg, tp)):
        if not node:
            raise InputFileError(name, f"empty {end}", line=line)
        if not grp:
            raise InputFileError(name, f"empty {end}_group", line=line)
        if prof not in PROFESSIONS:
            raise InputFileError(
                name, f"unknown {end}_profession {_show(prof)}; allowed: {', '.join(PROFESSIONS)}", line=line
            )
    raise InputFileError(name, f"self-loop on node {_show(s)}", line=line)
