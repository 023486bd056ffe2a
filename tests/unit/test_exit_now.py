"""`python -m sim` ends without the interpreter's teardown (sim.__main__.exit_now), as Python's exit would end it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import atexit, sys, threading, time
    from concurrent.futures import ThreadPoolExecutor
    from sim.__main__ import exit_now

    atexit.register(lambda: print("atexit handler ran"))
    ThreadPoolExecutor(1).submit(lambda: None)  # an idle pool never shut down: Python's exit ends its thread
    threading.Thread(target=lambda: (time.sleep(0.3), print("thread finished"))).start()
    print("buffered output", end=" ")  # no newline and a pipe: still in the buffer
    sys.stderr.write("buffered error")
    exit_now(0)
    print("never printed")
    """
)


def test_exit_now_joins_threads_runs_atexit_and_flushes() -> None:
    p = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["buffered", "output", "thread", "finished", "atexit", "handler", "ran"]
    assert p.stderr == "buffered error"


def test_exit_now_keeps_the_exit_code() -> None:
    code = "from sim.__main__ import exit_now; exit_now(3)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 3
