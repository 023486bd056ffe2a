"""Edge-list files: what is not a readable CSV is refused in one line, before it is read; what is, still reads.

Special files (devices, a FIFO, a directory) are refused by os.stat before any open: the tests make
opening them an error, so a reader that opened one fails here at once instead of hanging or filling
the memory.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import signal
import socket

import numpy as np
import pytest

import sim.config.inputfiles as inputfiles
from sim.config.errors import InputError, InputFileError
from sim.core.network import read_edge_list

HEADER = "source,target,source_group,target_group,source_profession,target_profession"
ROW = "1,2,a,a,social_work,social_work"


def write(tmp_path, data: str | bytes, name: str = "net.csv"):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def refused(path) -> InputFileError:
    with pytest.raises(InputFileError) as info:
        read_edge_list(path)
    msg = str(info.value)
    assert msg.startswith(f"invalid input file {path}") and len(msg.splitlines()) == 1, msg
    return info.value


@pytest.fixture
def never_opened(monkeypatch):
    """Opening any of the paths added to the returned set fails the test (and so cannot hang)."""
    paths: set[str] = set()
    real_open, real_os_open = builtins.open, os.open

    def guard(path):
        if isinstance(path, (str, bytes, os.PathLike)) and os.fsdecode(path) in paths:
            raise AssertionError(f"{os.fsdecode(path)} was opened")

    def fake_open(file, *args, **kwargs):
        guard(file)
        return real_open(file, *args, **kwargs)

    def fake_os_open(path, *args, **kwargs):
        guard(path)
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    return paths


@contextlib.contextmanager
def deadline(seconds: int):
    """Fail, instead of blocking forever, if the body takes longer (a FIFO opened without O_NONBLOCK)."""

    def expire(*_):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------- not regular files


@pytest.mark.parametrize(("device", "kind"), [("/dev/zero", "character device"), ("/dev/null", "character device")])
def test_a_device_is_refused_without_being_opened(never_opened, device, kind):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    never_opened.add(device)
    err = refused(device)
    assert err.problem == f"not a regular file but a {kind}; give the path of a CSV file" and err.line is None


def test_a_directory_is_refused_without_being_opened(tmp_path, never_opened):
    never_opened.add(str(tmp_path))
    assert "not a regular file but a directory" in str(refused(tmp_path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_being_opened(tmp_path, never_opened):
    fifo = tmp_path / "net.csv"
    os.mkfifo(fifo)
    never_opened.add(str(fifo))
    with deadline(10):
        assert "not a regular file but a FIFO (named pipe)" in str(refused(fifo))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_swapped_in_after_the_stat_is_refused_after_opening_without_blocking(tmp_path, monkeypatch):
    good = write(tmp_path, HEADER + "\n" + ROW + "\n", "good.csv")
    fifo = tmp_path / "net.csv"
    os.mkfifo(fifo)
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: real_stat(good if os.fspath(p) == str(fifo) else p, *a, **k))
    with deadline(10):  # an open without O_NONBLOCK would wait for a writer forever
        assert "not a regular file but a FIFO" in str(refused(fifo))


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no unix sockets here")
def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s"  # short: AF_UNIX paths are limited to ~100 bytes
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.bind(str(path))
        except OSError:
            pytest.skip("cannot bind a unix socket here")
        assert "not a regular file but a socket" in str(refused(path))


def test_a_missing_or_unreachable_path_is_refused(tmp_path):
    assert refused(tmp_path / "nope.csv").problem == "file not found"
    file = write(tmp_path, HEADER + "\n" + ROW + "\n")
    assert "cannot open file: Not a directory" in str(refused(file / "x.csv"))


@pytest.mark.parametrize("name", ["bad\x00name.csv", "bad\nname.csv", "bad\u2028name.csv"])
def test_a_path_with_control_characters_is_shown_quoted_on_one_line(tmp_path, name):
    path = str(tmp_path / name)
    with pytest.raises(InputFileError) as info:
        read_edge_list(path)
    msg = str(info.value)
    assert len(msg.splitlines()) == 1 and repr(path) in msg, msg


# --------------------------------------------------------------------------- size


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch, never_opened):
    path = write(tmp_path, HEADER + "\n" + ROW + "\n")
    size = path.stat().st_size
    monkeypatch.setattr(inputfiles, "MAX_FILE_BYTES", size - 1)
    never_opened.add(str(path))
    err = refused(path)
    assert f"file of {size:,} bytes is over the limit for an input file, {size - 1:,} bytes" in err.problem
    assert "MAX_FILE_BYTES" in err.problem


def test_a_file_at_the_size_limit_is_read(tmp_path, monkeypatch):
    path = write(tmp_path, HEADER + "\n" + ROW + "\n")
    monkeypatch.setattr(inputfiles, "MAX_FILE_BYTES", path.stat().st_size)
    assert read_edge_list(path).n_nodes == 2


def test_a_sparse_file_just_over_1_gib_is_refused_unread(tmp_path, never_opened):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as fh:
        fh.truncate(2**30 + 1)  # sparse: no disk space used
    never_opened.add(str(path))
    assert refused(path).problem == (
        "file of 1,073,741,825 bytes (1.0 GiB) is over the limit for an input file, "
        "1,073,741,824 bytes (1.0 GiB) (MAX_FILE_BYTES in sim/config/inputfiles.py)"
    )


def test_a_file_that_grows_while_read_is_cut_at_the_limit(tmp_path, monkeypatch):
    # a regular file whose size os.stat does not tell (as in /proc) is still read no further than the limit
    path = write(tmp_path, HEADER + "\n" + (ROW + "\n") * 50)
    monkeypatch.setattr(inputfiles, "MAX_FILE_BYTES", 200)
    monkeypatch.setattr(inputfiles, "_check_stat", lambda name, st: None)
    err = refused(path)
    assert "more than 200 bytes read: the file grew while it was read" in err.problem and err.line == 5


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        (HEADER + "\n1\x00,2,a,a,social_work,social_work\n", 2, 2),  # once a KeyError (numpy drops trailing NULs)
        (HEADER + "\n1,2,a\x00,a,social_work,social_work\n", 2, 6),  # a group
        (HEADER + "\x00\n" + ROW + "\n", 1, len(HEADER) + 1),  # the header
        (HEADER + "\n" + ROW + "\n" + "\x00" * 20, 3, 1),  # padding at the end
    ],
)
def test_a_nul_byte_is_refused_with_its_line_and_column(tmp_path, text, line, column):
    err = refused(write(tmp_path, text))
    assert err.line == line and f"NUL byte at column {column}" in err.problem and "UTF-8" in err.problem


def test_utf16_without_a_bom_is_refused_as_nul_bytes(tmp_path):
    err = refused(write(tmp_path, (HEADER + "\n" + ROW + "\n").encode("utf-16-le")))
    assert err.line == 1 and "NUL byte at column 2" in err.problem and "UTF-16" in err.problem


@pytest.mark.parametrize(
    ("data", "line", "byte", "column"),
    [
        ((HEADER + "\ncafé,2,a,a,social_work,social_work\n").encode("latin-1"), 2, "0xe9", 4),
        ((HEADER + "\n" + ROW + "\n").encode("utf-16"), 1, "0xff", 1),  # with its BOM
        (HEADER.encode() + b"\n" + ROW.encode() + b"\r\n2,3,a,a,\xc3,social_work\n", 3, "0xc3", 9),  # truncated
        (HEADER.encode() + b"\n" + ROW.encode() + b"\n\xed\xa0\x80,1,a,a,social_work,social_work\n", 3, "0xed", 1),
    ],
    ids=["latin-1", "utf-16", "truncated-sequence", "encoded-surrogate"],
)
def test_text_that_is_not_utf8_is_refused_with_its_line_and_byte(tmp_path, data, line, byte, column):
    err = refused(write(tmp_path, data))
    assert err.line == line and f"byte {byte} at column {column} is not UTF-8" in err.problem


def test_random_binary_is_refused(tmp_path):
    data = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    err = refused(write(tmp_path, data))
    assert err.line is not None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "file is empty (or blank); expected a header with columns source, target"),
        ("\n\r\n  \n", "file is empty (or blank)"),
        (HEADER + "\n", "no edges after the header on line 1"),
        ("\n" + HEADER + "\n\n", "no edges after the header on line 2"),
        (ROW + "\n", "line 1: no header: required columns: source, target"),
    ],
)
def test_an_empty_or_headless_file_is_refused(tmp_path, text, needle):
    assert needle in str(refused(write(tmp_path, text)))


def test_an_absurdly_long_line_is_refused_with_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(inputfiles, "MAX_LINE_CHARS", 100)
    at_limit = "x" * (100 - len(ROW) - 1) + ROW + "\n"  # 100 characters with its line end
    assert read_edge_list(write(tmp_path, HEADER + "\n" + at_limit)).n_nodes == 2
    err = refused(write(tmp_path, HEADER + "\n" + ROW + "\n" + "9," * 60 + "\n"))
    assert err.line == 3 and err.problem == "line longer than 100 characters"


def test_a_field_over_the_csv_limit_is_refused_with_its_line(tmp_path):
    err = refused(write(tmp_path, HEADER + "\n" + ROW + "\n" + "x" * 200_000 + ",2,a,a,social_work,social_work\n"))
    assert err.line == 3 and "field larger than field limit" in err.problem


def test_a_quote_left_open_is_named(tmp_path):
    err = refused(write(tmp_path, HEADER + '\n"1,2,a,a,social_work,social_work\n' + ROW + "\n" + ROW + "\n"))
    assert err.line == 2 and "found 1 in the record of lines 2-4 (a quote left open?)" in err.problem


def test_values_in_messages_are_quoted_escaped_and_clipped(tmp_path):
    err = refused(write(tmp_path, HEADER + "\n1,2,a,a,social_work,nurse\u2028" + "x" * 500 + "\n"))
    assert "unknown target_profession 'nurse\\u2028" in err.problem and "... (506 characters)" in err.problem
    assert len(str(err)) < 300


def test_many_duplicate_columns_are_listed_briefly(tmp_path):
    cols = [f"c{i}" for i in range(5_000)]
    err = refused(write(tmp_path, ",".join(list(HEADER.split(",")) + cols + cols) + "\n" + ROW + "\n"))
    assert err.line == 1 and "duplicate column(s) 'c0', 'c1'" in err.problem and "and 4990 more" in err.problem


# --------------------------------------------------------------------------- what works keeps working


@pytest.mark.parametrize(
    "data",
    [
        ("\ufeff" + HEADER + "\n" + ROW + "\n").encode("utf-8"),  # BOM (Excel)
        (HEADER + "\r\n" + ROW + "\r\n").encode(),  # CRLF
        (HEADER + "\r" + ROW + "\r").encode(),  # CR (old Mac)
        (HEADER + "\n" + ROW).encode(),  # no final line end
        (" " + HEADER.replace(",", " , ") + "\n\n" + ROW.replace(",", "\t,") + "\n\n").encode(),  # padding, blanks
    ],
    ids=["bom", "crlf", "cr", "no-final-newline", "padding"],
)
def test_common_spellings_read_alike(tmp_path, data):
    el = read_edge_list(write(tmp_path, data))
    assert el.node_labels.tolist() == [1, 2] and el.u.tolist() == [0] and el.v.tolist() == [1]


def test_quoting_unicode_and_duplicates_read_as_written(tmp_path):
    el = read_edge_list(
        write(
            tmp_path,
            HEADER + "\n"
            '"x,1","y ""2""",a,a,social_work,health_care\n'
            '"y ""2""","x,1",a,a,health_care,social_work\n'  # the same tie, reversed
            '"mul\nti",é,a,ß,social_work,social_work\n',
        )
    )
    assert el.node_labels.tolist() == sorted(["x,1", 'y "2"', "mul\nti", "é"])
    assert el.u.size == 2 and el.group_labels.tolist() == ["a", "ß"]


def test_a_200k_edge_file_reads(tmp_path):
    n, m = 50_000, 200_000
    rng = np.random.default_rng(1)
    u = rng.integers(0, n, m)
    v = (u + rng.integers(1, n, m)) % n
    prof = ("social_work", "health_care")
    lines = [HEADER] + [
        f"{a},{b},{a % 7},{b % 7},{prof[a % 2]},{prof[b % 2]}" for a, b in zip(u.tolist(), v.tolist(), strict=True)
    ]
    el = read_edge_list(write(tmp_path, "\n".join(lines) + "\n"))
    expected = np.unique(np.minimum(u, v) * n + np.maximum(u, v))
    labels = el.node_labels
    assert np.array_equal(np.sort(labels[el.u] * n + labels[el.v]), expected)
    assert np.array_equal(el.group_labels[el.group], labels % 7)


# --------------------------------------------------------------------------- the preflight


def test_the_preflight_reads_each_file_once_and_refuses_a_bad_one(tmp_path, monkeypatch):
    from sim.config.preflight import preflight

    path = write(tmp_path, HEADER + "\n" + ROW + "\n2,3,a,a,social_work,social_work\n")
    calls: list[str] = []
    real = inputfiles.parse_edge_list
    monkeypatch.setattr(inputfiles, "parse_edge_list", lambda p: (calls.append(str(p)), real(p))[1])
    sweep = ["-m", "seed=0,1,2", "influence.rate=0.1,0.2,0.3", "network=edgelist", f"network.path={path}"]
    preflight(sweep)
    assert calls == [str(path)]  # nine runs, one read
    preflight(sweep)
    assert len(calls) == 1  # unchanged: not read again
    path.write_text(HEADER + "\n" + ROW + "\n2,2,a,a,social_work,social_work\n")  # a new version, bad on line 3
    with pytest.raises(InputError, match=r"net\.csv, line 3: self-loop on node '2'"):
        preflight(sweep)
    assert len(calls) == 2
    with pytest.raises(InputFileError, match="not a regular file but a directory"):
        preflight(["network=edgelist", f"network.path={tmp_path}"])
