"""The line a run prints while numba compiles: once, when numba compiles, and never from a warm cache."""

from __future__ import annotations

import io

import numba
from numba.core import event

from sim.run import compilenote


def test_the_line_comes_once_when_numba_compiles_and_not_when_nothing_is_compiled():
    said = io.StringIO()
    with event.install_listener("numba:compile", compilenote._Announce(said)):
        add = numba.njit(lambda x: x + 1)
        assert add(1) == 2 and add(2.5) == 3.5  # two compilations (int, float): one line
    assert said.getvalue() == compilenote.MESSAGE + "\n"
    quiet = io.StringIO()
    with event.install_listener("numba:compile", compilenote._Announce(quiet)):
        assert add(3) == 4  # compiled already (as a kernel read from numba's cache): no event, no line
    assert quiet.getvalue() == ""


def test_off_a_terminal_nothing_is_registered(monkeypatch):
    monkeypatch.setattr(compilenote, "_listener", None)
    registered = []
    monkeypatch.setattr(event, "register", lambda kind, listener: registered.append(kind))
    compilenote.announce_compilation(io.StringIO())  # not a terminal: a sweep's worker, a pipe, a log file
    assert registered == []
    compilenote.announce_compilation(io.StringIO(), terminal_only=False)
    compilenote.announce_compilation(io.StringIO(), terminal_only=False)  # once per process
    assert registered == ["numba:compile"]
    assert not compilenote.compiled()  # registered, nothing compiled since
