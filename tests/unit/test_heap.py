"""The long-lived objects of a process out of the garbage collector's walks (sim.run.heap)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _python(code: str) -> str:
    """What a fresh interpreter prints running `code` (which must succeed)."""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout.strip()


def test_settle_collects_then_freezes_once_per_process() -> None:
    code = textwrap.dedent(
        """
        import gc, weakref
        from sim.run import heap

        class Cycle:
            pass

        gc.disable()  # the cycle stays garbage until something collects it
        c = Cycle(); c.me = c; gone = weakref.ref(c); del c
        before = gc.get_freeze_count()
        heap.settle()
        frozen = gc.get_freeze_count()
        assert frozen > before, (before, frozen)
        assert gone() is None  # collected before the freeze, not kept for the process's life
        keep = [[] for _ in range(1000)]
        heap.settle()  # once per process: the objects made since stay collectable
        assert gc.get_freeze_count() == frozen
        print("ok")
        """
    )
    assert _python(code) == "ok"


def test_freeze_leaves_objects_made_later_collectable() -> None:
    code = textwrap.dedent(
        """
        import gc, weakref
        from sim.run import heap

        class Cycle:
            pass

        heap.freeze()
        c = Cycle(); c.me = c; gone = weakref.ref(c); del c
        gc.collect()
        assert gone() is None
        print("ok")
        """
    )
    assert _python(code) == "ok"


def test_nothing_is_frozen_by_importing_it() -> None:
    code = "import gc; before = gc.get_freeze_count(); import sim.run.heap; print(gc.get_freeze_count() == before)"
    assert _python(code) == "True"


def test_the_imports_are_frozen_once_before_a_first_run_and_not_after_it() -> None:
    code = textwrap.dedent(
        """
        import gc
        from sim.run import heap

        before = gc.get_freeze_count()
        heap.before_first_run()
        once = gc.get_freeze_count()
        keep = [[] for _ in range(1000)]
        heap.before_first_run()  # a second job's: nothing more frozen (it could hold the first job's garbage)
        assert gc.get_freeze_count() == once > before, (before, once)
        heap.settle()
        settled = gc.get_freeze_count()
        more = [[] for _ in range(1000)]
        heap.before_first_run()
        assert gc.get_freeze_count() == settled
        print("ok")
        """
    )
    assert _python(code) == "ok"


def test_paused_turns_the_collector_off_inside_and_back_as_it_was() -> None:
    import gc

    import pytest

    from sim.run import heap

    assert gc.isenabled()
    with heap.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), heap.paused():
        raise ValueError
    assert gc.isenabled()  # after an error too
    gc.disable()
    try:
        with heap.paused():
            pass
        assert not gc.isenabled()  # it was off: it stays off
    finally:
        gc.enable()
