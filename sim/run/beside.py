"""Processes a single run of the command line starts beside itself: the compile partner and the figure process.

Both are `python -m MODULE` started at the command line's very start, so that they import while the
command line checks and composes the run's config; both help only where a second CPU would otherwise
idle. `wanted` says whether this command may have one, `start` starts it.
"""

from __future__ import annotations

import os
import subprocess
import sys

#: Hydra's flags that run no job (help, information, a config printed, shell completion)
NO_TASK_FLAGS = ("--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion", "-sc")


def single_run(argv: list[str]) -> bool:
    """Whether this command line runs one run: no sweep (-m), no Hydra information flag."""
    return not ("-m" in argv or "--multirun" in argv or any(a in NO_TASK_FLAGS for a in argv))


def turned_off(env: str) -> bool:
    """Whether the environment variable `env` turns a helper off (off, 0, false or no)."""
    return os.environ.get(env, "").strip().lower() in ("off", "0", "false", "no")


def wanted(argv: list[str], env: str) -> bool:
    """A helper for this command: a single run, not turned off by `env`, with two usable CPUs or more."""
    from sim.core.threads import usable_cpus

    return single_run(argv) and not turned_off(env) and usable_cpus() >= 2


def start(module: str, *, answers: bool = False) -> subprocess.Popen[bytes] | None:
    """`python -m module` with a pipe to its input (and from its output if it `answers`); None if none can start."""
    try:
        return subprocess.Popen(
            [sys.executable, "-m", module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if answers else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:  # no process to spare (limits, memory): the run does the work itself
        return None
