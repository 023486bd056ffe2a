"""The compile partner (sim.run.partner): when it starts, what it is given, when it ends, what it compiles."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sim.config.params import Config
from sim.run import partner


class FakeProc:
    """Stands for the partner's process: keeps what the command line writes to it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        import io

        self.args = args
        self.stdin = io.BytesIO()
        self.closed_stdin = False
        real_close = self.stdin.close

        def close() -> None:
            self.closed_stdin = True
            self.written = self.stdin.getvalue()
            real_close()

        self.stdin.close = close  # type: ignore[method-assign]


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[FakeProc]:
    """Partners started, with a cold cache, two CPUs and no setting; nothing really started."""
    procs: list[FakeProc] = []

    def popen(*args: Any, **kwargs: Any) -> FakeProc:
        procs.append(FakeProc(*args, **kwargs))
        return procs[-1]

    monkeypatch.setattr(partner.subprocess, "Popen", popen)
    monkeypatch.setattr(partner, "cache_is_cold", lambda cache_dir=None: True)
    monkeypatch.setattr("sim.core.threads.usable_cpus", lambda: 2)
    monkeypatch.delenv(partner.ENV, raising=False)
    monkeypatch.setattr(partner, "_spawned", None)
    return procs


def test_a_cache_is_cold_until_it_holds_a_compiled_kernel(tmp_path: Path) -> None:
    assert partner.cache_is_cold(tmp_path / "missing")
    assert partner.cache_is_cold(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "kernel-12.py312.nbc").write_bytes(b"")  # data without an index: still nothing usable
    assert partner.cache_is_cold(tmp_path)
    (tmp_path / "sub" / "kernel-12.py312.nbi").write_bytes(b"")
    assert not partner.cache_is_cold(tmp_path)


def test_a_single_run_on_a_cold_cache_gets_a_partner_and_its_config(spawned: list[FakeProc]) -> None:
    import pickle

    partner.spawn(["n_agents=300"])
    assert len(spawned) == 1 and spawned[0].args[0][1:] == ["-m", "sim.run.partner"]
    cfg = Config()
    got = partner.start(cfg)
    assert got is not None and got.proc is spawned[0]
    got.close()
    assert spawned[0].closed_stdin and pickle.loads(spawned[0].written) == cfg
    assert partner.start(cfg) is None  # one partner per command


@pytest.mark.parametrize(
    ("argv", "setting", "cold", "cpus"),
    [
        (["-m", "seed=0,1"], None, True, 2),  # a sweep: its workers compile side by side already
        (["--multirun", "seed=0,1"], None, True, 2),
        (["--help"], None, True, 2),  # Hydra's information flags run no model
        (["--cfg", "job"], None, True, 2),
        ([], "off", True, 2),  # turned off
        ([], "0", True, 2),
        ([], None, False, 2),  # the kernels are in the cache: nothing to compile
        ([], None, True, 1),  # one CPU: the partner would only take turns with the run
    ],
)
def test_no_partner_where_it_cannot_help(
    spawned: list[FakeProc],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    setting: str | None,
    cold: bool,
    cpus: int,
) -> None:
    if setting is not None:
        monkeypatch.setenv(partner.ENV, setting)
    monkeypatch.setattr(partner, "cache_is_cold", lambda cache_dir=None: cold)
    monkeypatch.setattr("sim.core.threads.usable_cpus", lambda: cpus)
    partner.spawn(argv)
    assert spawned == []
    assert partner.start(Config()) is None


def test_a_large_run_closes_its_partner_unused(spawned: list[FakeProc]) -> None:
    partner.spawn([])
    cfg = Config()
    cfg.n_agents = partner.MAX_AGENTS + 1
    assert partner.start(cfg) is None
    assert spawned[0].closed_stdin and spawned[0].written == b""  # closed before any config: it just exits


def _partner_process() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "sim.run.partner"], stdin=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_partner_given_no_config_exits_cleanly() -> None:
    proc = _partner_process()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()


def test_a_partner_ends_soon_after_the_run_closes_its_pipe(small_cfg: Config) -> None:
    import pickle

    small_cfg.steps = 10**6  # it would step for hours: only the closed pipe ends it
    proc = _partner_process()
    assert proc.stdin is not None
    pickle.dump(small_cfg, proc.stdin)
    proc.stdin.flush()
    time.sleep(3.0)  # it imports, builds the model and steps
    assert proc.poll() is None
    proc.stdin.close()
    proc.wait(timeout=120)  # after the compilation under way, if any
    assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""


_SIGNATURES = """
import json, sys
from numba.core.dispatcher import Dispatcher
from sim.config.params import Config
from sim.core.kernels import Kernel, signatures as compiled_for
from sim.run import partner
from sim.run.runner import run

def signatures():
    out = {}
    for name, mod in list(sys.modules.items()):
        if name.startswith("sim.step"):
            for attr, v in vars(mod).items():
                forms = [("", v)] if isinstance(v, Dispatcher) else []
                forms += list(v._forms.items()) if isinstance(v, Kernel) else []
                for form, d in forms:
                    out[f"{name}.{attr}{form}"] = sorted(map(str, compiled_for(d)))
    return out

cfg = Config()
cfg.n_agents, cfg.n_groups, cfg.steps = 120, 4, 6
cfg.output.progress = "off"
partner.compile_steps(cfg)
before = signatures()
run(cfg, sys.argv[1])
print(json.dumps([before, signatures()]))
"""


def test_the_partner_compiles_the_kernels_of_the_runs_steps(tmp_path: Path) -> None:
    """In a fresh process, after the partner's work the run calls no step kernel with new types.

    So every kernel the run's steps call was compiled (or loaded) by the partner with the types the run
    uses: on a cold cache the run finds them in numba's cache instead of compiling them. (In a fresh
    process a kernel has a signature only once it was compiled or loaded: the check holds whatever the
    cache holds.)
    """
    import json

    out = subprocess.run(
        [sys.executable, "-c", _SIGNATURES, str(tmp_path / "run")], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    before, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert sum(len(v) for v in before.values()) >= 10  # the partner called the step's kernels
    gained = {k: v for k, v in after.items() if v != before.get(k, [])}
    assert gained == {}, gained


def _tie_store_signatures() -> dict[str, list[str]]:
    """The signatures compiled (or loaded) so far in this process of the tie store's and outputs' kernels."""
    from numba.core.dispatcher import Dispatcher

    from sim.core import tiestore
    from sim.core.kernels import Kernel
    from sim.core.kernels import signatures as compiled_for

    out = {}
    for attr, v in vars(tiestore).items():
        forms = [("", v)] if isinstance(v, Dispatcher) else []
        forms += [(" parallel" if p else " serial", d) for p, d in v._forms.items()] if isinstance(v, Kernel) else []
        for form, d in forms:
            out[f"{attr}{form}"] = sorted(map(str, compiled_for(d)))
    return out


def test_compile_ahead_compiles_room_making_and_the_tie_list_with_the_types_a_run_uses(small_cfg: Config) -> None:
    """What the run compiles ahead of its partner is what its steps and outputs call later, types and all.

    After `compile_ahead`, making room for new ties (as the step's tie formation does, through
    `ensure_room`), a step, the tie list and the degrees add no signature to the tie store's kernels.
    """
    import numpy as np

    from sim.core import tiestore
    from sim.core.threads import use_threads
    from sim.model import ResocializationModel
    from sim.run import outputs

    model = ResocializationModel(small_cfg, collect=False)
    with use_threads(model.threads):  # as in the run
        partner.compile_ahead(model.state)
        before = _tie_store_signatures()
        for kernel in ("_widen_all", "_edge_list", "_upper_arcs", "_degree"):
            assert any(v for k, v in before.items() if k.split()[0] == kernel), kernel
        ties = model.state.ties
        others = np.arange(1, 41)
        tiestore.ensure_room(ties, np.zeros(40, dtype=np.int64), others)  # agent 0's block widened for 40 more
        assert tiestore.free_slots(ties)[0] >= 40
        model.step()
        for _ in outputs.edge_tables(model.state):
            pass
        ties.degree()
        after = _tie_store_signatures()
    assert {k: v for k, v in after.items() if before.get(k) and v != before[k]} == {}


def test_compile_share_compiles_with_the_types_the_run_calls(small_cfg: Config, monkeypatch) -> None:
    """What the partner compiles before its model (`compile_share`) is what the run's set-up and first record call.

    Each kernel it calls is called again by the run's model build or first record with the same argument
    types (numba's types, arrays with their dtype, rank and layout): the run finds each in the cache.
    """
    import collections

    import numba

    from sim.core import groups, tiestore
    from sim.core.threads import use_threads
    from sim.metrics import polarization, population
    from sim.model import ResocializationModel
    from sim.run.recorder import MetricsRecorder

    calls: dict[str, set[tuple[str, tuple[str, ...]]]] = collections.defaultdict(set)
    phase = ["share"]

    def recorded(name: str, fn: Any) -> Any:
        def call(*args: Any) -> Any:
            calls[name].add((phase[0], tuple(str(numba.typeof(a)) for a in args)))
            return fn(*args)

        return call

    watched = [(tiestore, "_sort_blocks"), (tiestore, "_degrees"), (polarization, "_by_level")]
    watched += [(groups, "dissenters_nb"), (population, "dissenters_nb")]
    for module, name in watched:
        monkeypatch.setattr(module, name, recorded(name, getattr(module, name)))
    partner.compile_share(small_cfg)
    phase[0] = "run"
    model = ResocializationModel(small_cfg, collect=False)
    with use_threads(model.threads):
        MetricsRecorder(small_cfg).record(model.state, None)
    assert set(calls) == {"_sort_blocks", "_degrees", "_by_level", "dissenters_nb"}
    for name, seen in calls.items():
        shared = {types for p, types in seen if p == "share"}
        run = {types for p, types in seen if p == "run"}
        assert shared and shared <= run, (name, shared - run)
