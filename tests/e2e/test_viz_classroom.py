"""A classroom at small scale: several browser sessions on one app server, released when they go; a restart.

The full-size run (30 sessions) is the benchmark's (`python -m benchmarks.classroom`, docs/viz.md); this
is the same driver with a few sessions, so that a change which makes a step expensive on the server,
keeps sessions alive after their pages went, or stops the app from restarting on its port fails here.
"""

from __future__ import annotations

import signal
import tempfile
import time
from pathlib import Path

import pytest

from benchmarks import classroom

pytestmark = pytest.mark.skipif(not classroom.CHROMIUM.exists(), reason="Debian's chromium is not installed")


def test_a_small_class_steps_fast_is_released_when_it_leaves_and_comes_back_in_the_same_memory():
    pytest.importorskip("playwright.async_api")
    res = classroom.run_classroom(sessions=4, steps=3, pause_s=0.3, release_s=3.0, arrive_s=0.2, waves=2)
    print(f"\nclassroom at small scale: {res}")
    assert res["problems"] == []
    assert res["pages_loaded"] == 4 and res["unloaded"] == []  # every page showed the app
    assert res["session_steps"] == 2 * 4 * 3  # the server recorded every step of every session, both waves
    assert res["server_step_ms_p95"] < 1000  # the bound, measured by the server
    # half the tabs were closed, the other half dropped: all released, the dropped ones after --release
    assert res["opened"] == 4 and res["released"] == 4
    assert res["released_within_s"] < 3.0 + 30
    assert res["rss_per_session_mb"] < 50
    # the class comes back after its sessions were released: their memory is reused, not added to
    first, second = res["rss_after_waves_mb"]
    assert second < first + 0.5 * (res["rss_open_mb"] - res["rss_idle_mb"]), res["rss_after_waves_mb"]


def test_the_app_restarts_on_the_same_port_at_once():
    """Stopped with a page connected (its connections wait out TCP's TIME_WAIT), it listens again at once."""
    pytest.importorskip("playwright.sync_api")
    from playwright.sync_api import sync_playwright

    from sim.viz.__main__ import free_port

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        first = classroom.Server(port, Path(tmp) / "a.jsonl", 5)
        url = first.wait_url()
        browser = pw.chromium.launch(executable_path=str(classroom.CHROMIUM), args=classroom.CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(url)
        page.get_by_role("button", name="Step", exact=True).wait_for(timeout=120_000)
        first.stop(signal.SIGINT)  # Ctrl+C, with the page still open
        t0 = time.monotonic()
        second = classroom.Server(port, Path(tmp) / "b.jsonl", 5)
        try:
            assert second.wait_url(timeout=60) == url, "".join(second.log)
            restarted = time.monotonic() - t0
            assert not any("cannot listen" in line for line in second.log)
            page.goto(url)  # and it serves the page again
            page.get_by_role("button", name="Step", exact=True).wait_for(timeout=120_000)
        finally:
            browser.close()
            second.stop()
    print(f"\nrestarted on port {port} in {restarted:.1f} s (start-up included)")


def test_the_server_keeps_a_slow_page_connected_and_collects_old_objects_rarely():
    """The server's keep-alive waits for slow pages, and its garbage collector rarely scans old objects.

    A page busy drawing its first load answers the ping late (uvicorn waits 20 s by default, and 15 of 30
    pages of a measured class were dropped and stayed at "Loading app"); a full collection of a class's
    objects paused every session for seconds.
    """
    import gc

    import uvicorn

    from sim.viz import __main__ as viz_main

    viz_main._websocket_settings()
    viz_main._websocket_settings()  # once only: not wrapped twice
    assert uvicorn.Config(app="x:y").ws_ping_timeout == viz_main.WS_PING_TIMEOUT_S >= 60
    assert uvicorn.Config(app="x:y", ws_ping_timeout=5).ws_ping_timeout == 5  # an explicit value still wins
    before = gc.get_threshold()
    try:
        viz_main._collect_rarely()
        assert gc.get_threshold() == (viz_main.GC_YOUNG, 10, viz_main.GC_FULL_AFTER)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
