"""A compile partner: on a cold numba cache, a second process compiles the step while the run compiles its metrics.

A run's first 20 seconds after installing (or changing the code) are numba compiling the kernels, one
after another on one core: about 2 s for the model's set-up, 7 s for the metrics of step 0 and 8 s
for the step's kernels (the default scenario, measured on a 2-core Intel Xeon on 2026-12-06). numba compiles on
one thread per process, so a machine's second core sits idle meanwhile.

On a cold cache (the package's cache holds no compiled kernel yet), the command line starts a second
Python process (`python -m sim.run.partner`, by `spawn` at its very start: the partner imports numba
and the model while the command line checks and composes the run's config), then gives it the run's
config (`start`). The partner builds the same model (same config and seed) in memory and steps it,
with the run's thread count: it compiles the step's kernels, with the very types the run will use,
into numba's on-disk cache while the run itself compiles its metrics. When the run reaches its first
step, numba finds those kernels in the cache (it looks there before compiling each one) and loads
them instead of compiling. The partner writes nothing else, never touches the run's outputs or random
numbers, and its model is thrown away: results are those of a run without it.

The work is split so that neither process waits for a kernel the other is compiling, or compiles it
too: while the run builds its model, the partner compiles on tiny arrays the set-up kernels the run
reaches last, who dissents and the grouping by level of the first record (`compile_share`), then
builds its own model from the cache (both used to compile the whole set-up, about 2 s each); the run
compiles, out of order, the kernels it would
otherwise reach last (the tie store's room-making, the step's last kernel, and the tie list of the
outputs: `compile_ahead`) and then its metrics (about 8 s), while the partner compiles the step
(about 11 s). Before this split the run reached its first step before the partner had reached those
last kernels, and both compiled them side by side.

It is started only where it can help and costs little: a single run of the command line (a sweep's
workers compile side by side already), at most `MAX_AGENTS` agents (its model is a copy of the
run's; above that, compiling is a small share of a run), and at least two usable CPUs
(`sim.core.threads.usable_cpus`). It ends when it has stepped the model, or as soon as the run closes
its pipe (the run ended, failed or was killed), after the compilation under way so that the cache
never holds half a file. `SIM_COMPILE_PARTNER=off` turns it off.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from sim.config.params import Config
from sim.run import beside

ENV = "SIM_COMPILE_PARTNER"
#: Largest run (agents) given a partner: its model is a copy of the run's.
MAX_AGENTS = 50_000


def cache_is_cold(cache_dir: str | Path | None = None) -> bool:
    """Whether the package's numba cache holds no compiled kernel yet (a fresh install or changed code)."""
    if cache_dir is None:
        import sim

        cache_dir = sim.CACHE_DIR
    root = Path(cache_dir)
    return not root.is_dir() or next(root.rglob("*.nbi"), None) is None


def enabled() -> bool:
    """False when `SIM_COMPILE_PARTNER` turns the partner off (off, 0, false or no)."""
    return not beside.turned_off(ENV)


class Partner:
    """The partner process: `send(cfg)` gives it the run's config, `close()` tells it the run has ended."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def send(self, cfg: Config) -> bool:
        """Give the partner the run's config; False if it could not be given (the partner is gone)."""
        try:
            assert self.proc.stdin is not None
            pickle.dump(cfg, self.proc.stdin)
            self.proc.stdin.flush()
        except (OSError, ValueError):
            return False
        return True

    def close(self) -> None:
        """The run has ended (or needs no partner): the partner exits after its current compilation."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:  # it has exited already
                pass


_spawned: Partner | None = None  # started by spawn(), given its config (or closed) by start()


def spawn(argv: list[str]) -> None:
    """Start the partner's process early, at the command line's start, if this command may want one.

    It imports numba and the model while the command line checks and composes the run's config, and
    then waits for `start`. Only for a single run (no -m, no Hydra information flag) on a cold cache with
    two CPUs or more; `start` decides on the run's size.
    """
    global _spawned
    if _spawned is not None or not beside.wanted(argv, ENV) or not cache_is_cold():
        return
    proc = beside.start("sim.run.partner")
    if proc is not None:  # else the run compiles everything itself, as before
        _spawned = Partner(proc)


def start(cfg: Config) -> Partner | None:
    """The partner of a run of `cfg` (given the config), if one was spawned and the run is small enough; else None."""
    global _spawned
    partner, _spawned = _spawned, None
    if partner is None:
        return None
    if cfg.n_agents > MAX_AGENTS or not partner.send(cfg):
        partner.close()
        return None
    return partner


def compile_ahead(state: Any) -> None:
    """In a run that has a partner, before its first record: the kernels the partner would reach last.

    The tie store's room-making (`sim.core.tiestore.compile_room`, changing nothing) and the outputs'
    tie list and degrees, of the state as built (their types are those of every later state). The run
    then compiles its metrics while the partner compiles the rest of the step.
    """
    from sim.core import tiestore
    from sim.run import outputs

    tiestore.compile_room(state.ties)
    for _ in outputs.edge_tables(state):
        pass
    state.ties.degree()


def _exit_when_run_ends(stdin: IO[bytes]) -> None:
    """Exit as soon as the run closes the pipe (or dies), after the compilation under way, if any."""
    from numba.core.compiler_lock import global_compiler_lock

    stdin.read()  # returns at end of file: the run closed its end
    with global_compiler_lock:  # numba writes a cache file while holding it: never leave half of one
        os._exit(0)


def main(stdin: IO[bytes]) -> None:
    """The partner's side: import, wait for the run's config, build its model and step it (nothing written)."""
    import sim.model  # noqa: F401  (numba and the model load while the command line composes the config)
    import sim.run.outputs  # noqa: F401

    try:
        cfg = pickle.load(stdin)
    except EOFError:  # the run needs no partner (too large, an information flag) or has ended
        return
    threading.Thread(target=_exit_when_run_ends, args=(stdin,), daemon=True).start()
    compile_share(cfg)
    compile_steps(cfg)


def compile_share(cfg: Config) -> None:
    """Before building its model: what the run would compile first too, taken off the run's hands.

    Both processes build the same model, and so reach the same set-up kernels at the same moment: each
    compiled them (about 2 s of compiling in each). Here the partner compiles, on tiny arrays of the
    run's types and with the run's thread count, the tie store's layout kernels that the run reaches last
    (`tiestore.compile_layout_tail`), while the run compiles those it reaches first; then who dissents (the
    step's kernel that the run's first record calls too) and the grouping of stances by level of the
    run's first record (`polarization.compile_level_grouping`). When it then builds its model, the run has
    compiled the rest of the set-up; when the run reaches these, they are in the cache. Nothing here is
    kept: only numba's cache changes.
    """
    import numpy as np

    from sim.core import tiestore
    from sim.core.groups import dissenters_nb
    from sim.core.threads import kernel_threads, use_threads
    from sim.metrics.polarization import compile_level_grouping

    with use_threads(kernel_threads(cfg.n_agents)):  # the model's thread count: the same form of each kernel
        tiestore.compile_layout_tail()
        group = np.zeros(2, dtype=np.int32)  # the state's types: int32 groups and order, int64 bounds
        dissenters_nb(np.zeros(2), group, group.copy(), np.array([0, 2], dtype=np.int64), float(cfg.ties.conformity))
        compile_level_grouping()


def compile_steps(cfg: Config, steps: int | None = None) -> Any:
    """Build the model of `cfg` and step it `steps` times (all of cfg.steps by default); returns the model.

    Every kernel the steps call is compiled (or loaded) as in the run: same types, and the same thread
    count (the model's, from the same number of agents and the same environment). The tie list's kernel
    (edges.parquet) is compiled too.
    """
    from sim.core.groups import dissenters_nb
    from sim.core.threads import use_threads
    from sim.model import ResocializationModel
    from sim.run import outputs

    model = ResocializationModel(cfg, collect=False)
    with use_threads(model.threads):
        state = model.state
        # the one kernel of the step that the run's first record calls too (who dissents): compiled before the
        # steps (by `compile_share` when partnered), while the run compiles what it compiles ahead
        # (`compile_ahead`), not by both side by side later
        dissenters_nb(state.stance, state.group, state.group_order, state.group_start, float(cfg.ties.conformity))
        for _ in range(cfg.steps if steps is None else steps):
            model.step()
            if cfg.stop_at_convergence and model.converged:
                break
        for _ in outputs.edge_tables(model.state):
            pass
    return model


if __name__ == "__main__":
    main(sys.stdin.buffer)
