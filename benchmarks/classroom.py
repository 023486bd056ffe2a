"""A classroom on one machine: many browser sessions of the teaching app on one `python -m sim.viz` server.

`python -m benchmarks.classroom --sessions 30 --steps 5` starts the app as a teacher would, opens one
browser context per student (Debian's chromium driven by playwright, all on 127.0.0.1), and in every
session at once presses Step `--steps` times, each time waiting until the page shows the new step, with
a student's pause between presses. Then it closes half of the tabs, drops the other half's connections
without closing (the browser is killed), and waits until the server has released every session.

What it reports comes from the server's own records (`sim.viz.serverstats`, `SIM_VIZ_STATS`): per
session-step the server's time from the start of the step to the end of the render that sends the update
(model plus the data the browser draws), its 50th and 95th percentile and maximum; the server's resident
memory before the sessions, with all of them open, and after they were released; how long release took.
The browsers run at the lowest CPU priority (`nice 19`), so that on a 2-core machine their drawing (which
a real classroom does on the students' own machines) takes what the server leaves. The time a student
sees (click to the new step on the page) is reported too, but it includes the browsers' own work here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOAD_TIMEOUT_MS = 240_000  # a page that has not shown the app by then is reported as never loaded
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _read_lines(stream, out: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        out.put(line)
    out.put(None)


class Server:
    """`python -m sim.viz` in its own process group, with the server-side records in `stats` (None: none)."""

    def __init__(self, port: int, stats: Path | None, release_s: float, extra_env: dict | None = None) -> None:
        self.port, self.stats = port, stats
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            **({"SIM_VIZ_STATS": str(stats)} if stats is not None else {}),
            **(extra_env or {}),
        }
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sim.viz", "--port", str(port), "--release", f"{release_s:g}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=_read_lines, args=(self.proc.stdout, self.lines), daemon=True).start()

    def wait_url(self, timeout: float = 120.0) -> str:
        """The URL the app prints once it listens; raises with the log if it does not come."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            self.log.append(line)
            m = re.search(r"running at (http://\S+)", line)
            if m:
                return m.group(1)
        raise RuntimeError("the app printed no URL:\n" + "".join(self.log))

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line:
                self.log.append(line)

    def cpu_s(self) -> float:
        """CPU seconds the server has used so far (user + system)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def records(stats: Path) -> list[dict]:
    if not stats.exists():
        return []
    return [json.loads(line) for line in stats.read_text().splitlines() if line.strip()]


def nice_chromium(folder: Path) -> Path:
    """A launcher running Debian's chromium at the lowest CPU priority (the server keeps what it needs)."""
    path = folder / "chromium-nice"
    path.write_text(f'#!/bin/sh\nexec nice -n 19 {CHROMIUM} "$@"\n')
    path.chmod(0o755)
    return path


class Class:
    """What the sessions share: the start signal once every page has loaded, the seeded pauses, what was seen."""

    def __init__(self, sessions: int, pause_s: float, server: Server, seed: int = 0) -> None:
        self.sessions, self.loaded, self.server = sessions, 0, server
        self.cpu_at_start = 0.0
        self.all_loaded = asyncio.Event()
        self.rng = random.Random(seed)
        self.pause_s = pause_s
        self.seen: list[float] = []
        self.ready: list[float] = []
        self.problems: list[str] = []
        self.unloaded: list[str] = []  # pages that never showed the app, with what they showed

    def arrived(self) -> None:
        """A page has loaded (or given up): the class starts once every page has."""
        self.loaded += 1
        if self.loaded == self.sessions:
            self.cpu_at_start = self.server.cpu_s()
            self.all_loaded.set()

    def pause(self) -> float:
        """A student's pause before pressing Step: uniform between half and one and a half times the mean."""
        return self.rng.uniform(0.5 * self.pause_s, 1.5 * self.pause_s)


async def _session(browser, url: str, steps: int, room: Class, arrive_s: float):
    problems, seen = room.problems, room.seen
    await asyncio.sleep(arrive_s)
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await context.new_page()
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    # While the page loads: its console and websocket frames, reported if it never shows the app. The
    # listeners go once it has loaded, so that the driver (at normal priority) does not relay every
    # frame of 30 pages while the server is measured.
    console: list[str] = []
    frames = [0, 0]  # received, sent
    sockets: list = []

    def keep_console(m) -> None:
        console.append(f"{m.type}: {m.text}"[:200])

    def received(_) -> None:
        frames[0] += 1

    def sent(_) -> None:
        frames[1] += 1

    def watch(ws) -> None:
        sockets.append(ws)
        ws.on("framereceived", received)
        ws.on("framesent", sent)

    page.on("console", keep_console)
    page.on("websocket", watch)
    t0 = time.monotonic()
    step = page.get_by_role("button", name="Step", exact=True)
    try:
        await page.goto(url, timeout=LOAD_TIMEOUT_MS)
        await step.wait_for(timeout=LOAD_TIMEOUT_MS)
        await page.locator(".sim-chart-network canvas").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    except Exception as err:  # a page that never loads is reported (with what it showed), not a crash
        shown = "" if page.is_closed() else await page.locator("body").inner_text(timeout=5_000)
        room.unloaded.append(
            f"after {time.monotonic() - t0:.0f} s: {type(err).__name__}; websocket frames received {frames[0]}, "
            f"sent {frames[1]}; page text: {' '.join(shown.split())[:300]!r}; console: {console[-5:]}"
        )
        room.arrived()
        return context, None
    page.remove_listener("console", keep_console)
    page.remove_listener("websocket", watch)
    for ws in sockets:
        ws.remove_listener("framereceived", received)
        ws.remove_listener("framesent", sent)
    room.ready.append(time.monotonic() - t0)
    room.arrived()  # the class starts together once every page is there ("now press Step")
    await room.all_loaded.wait()
    for k in range(1, steps + 1):
        await asyncio.sleep(room.pause())
        t0 = time.monotonic()
        await step.click()
        await page.get_by_text(f"Time: {float(k)}", exact=True).wait_for(timeout=180_000)
        await page.locator(".sim-network-caption", has_text=f"Step {k} ").wait_for(timeout=180_000)
        seen.append(time.monotonic() - t0)
    return context, page


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


async def _classroom(url: str, sessions: int, steps: int, pause_s: float, server: Server, arrive_s: float):
    from playwright.async_api import async_playwright

    room = Class(sessions, pause_s, server)
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        exe = nice_chromium(Path(tmp))
        async with async_playwright() as pw:
            closing = await pw.chromium.launch(executable_path=str(exe), args=CHROMIUM_ARGS)
            dropping = await pw.chromium.launch(executable_path=str(exe), args=CHROMIUM_ARGS)
            half = sessions // 2
            t0 = time.monotonic()
            opened = await asyncio.gather(
                *[_session(closing if i < half else dropping, url, steps, room, i * arrive_s) for i in range(sessions)]
            )
            out["sessions_wall_s"] = time.monotonic() - t0
            out["cpu_per_step_s"] = (server.cpu_s() - room.cpu_at_start) / max(sessions * steps, 1)
            out["rss_open_mb"] = server.rss_mb()
            # half the students close their tab (the page says so to the server), the others' connection drops
            for context, _ in opened[:half]:
                await context.close()
            closed_at = time.monotonic()
            await dropping.close()
            await closing.close()
    out["browser_seen_s"] = room.seen
    out["ready_s"] = room.ready
    out["problems"] = room.problems
    out["unloaded"] = room.unloaded
    out["closed_at"] = closed_at
    return out


def run_classroom(
    sessions: int = 30,
    steps: int = 5,
    pause_s: float = 1.0,
    release_s: float = 20.0,
    arrive_s: float = 0.5,
    port: int | None = None,
    waves: int = 1,
    keep: Path | None = None,
) -> dict:
    """Run the classroom and return what the server recorded (see the module's docstring).

    With `waves` > 1 the same class comes back (new sessions) after the previous one was released; the
    server's memory after each wave (`rss_after_waves_mb`) shows whether released sessions are reused or
    leak. The step and page timings are those of every wave; the rest those of the first. `keep`: a file
    to copy the server's records into (`SIM_VIZ_STATS`).
    """
    from sim.viz.__main__ import free_port

    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "stats.jsonl"
        port = port or free_port()
        server = Server(port, stats, release_s)
        try:
            url = server.wait_url()
            time.sleep(1.0)
            rss_idle = server.rss_mb()
            rss_waves: list[float] = []
            firsts: list[dict] = []
            for wave in range(waves):
                try:
                    got = asyncio.run(_classroom(url, sessions, steps, pause_s, server, arrive_s))
                except Exception as err:
                    server.stop()
                    raise RuntimeError(f"{err}\nthe server's log ends with:\n{''.join(server.log[-60:])}") from err
                firsts.append(got)
                deadline = got["closed_at"] + release_s + 60
                while time.monotonic() < deadline:
                    recs = records(stats)
                    now_open = {r["session"] for r in recs if r["event"] == "open"}
                    now_closed = {r["session"] for r in recs if r["event"] == "close"}
                    if len(now_open) >= sessions * (wave + 1) and now_open <= now_closed:
                        break
                    time.sleep(0.5)
                released_after = time.monotonic() - got["closed_at"]
                time.sleep(2.0)  # the deferred garbage collection after the last close
                rss_waves.append(server.rss_mb())
            got = firsts[0]
            rss_after = rss_waves[-1]
            recs = records(stats)
            if keep is not None:
                keep.write_text(stats.read_text())
        finally:
            server.stop()
    steps_ms = [r["ms"] for r in recs if r["event"] == "step"]
    gc_ms = [r["ms"] for r in recs if r["event"] == "gc"]
    opened = [r for r in recs if r["event"] == "open"]
    closed = [r for r in recs if r["event"] == "close"]
    return {
        "sessions": sessions,
        "steps_per_session": steps,
        "pause_s": pause_s,
        "release_s": release_s,
        "session_steps": len(steps_ms),
        "server_step_ms_p50": _pct(steps_ms, 0.5),
        "server_step_ms_p95": _pct(steps_ms, 0.95),
        "server_step_ms_max": max(steps_ms, default=float("nan")),
        "gc_pauses_over_20ms": len(gc_ms),
        "gc_pause_ms_max": max(gc_ms, default=0.0),
        "gc_pause_ms_total": sum(gc_ms),
        "page_ready_s_p50": _pct(got["ready_s"], 0.5),
        "page_ready_s_max": max(got["ready_s"], default=float("nan")),
        "browser_step_s_p50": _pct(got["browser_seen_s"], 0.5),
        "browser_step_s_p95": _pct(got["browser_seen_s"], 0.95),
        "opened": len({r["session"] for r in opened}) // waves,
        "released": len({r["session"] for r in closed}) // waves,
        "released_within_s": released_after,
        "rss_idle_mb": rss_idle,
        "rss_open_mb": got["rss_open_mb"],
        "rss_after_mb": rss_after,
        "rss_after_waves_mb": rss_waves,
        "rss_per_session_mb": (got["rss_open_mb"] - rss_idle) / max(sessions, 1),
        "server_cpu_s_per_session_step": got["cpu_per_step_s"],
        "problems": got["problems"],
        "pages_loaded": sessions - len(got["unloaded"]),
        "unloaded": got["unloaded"],
        "wall_s": got["sessions_wall_s"],
    }


def markdown(room: dict | None) -> list[str]:
    """The classroom's section of the benchmark's report (Markdown lines)."""
    if not room:
        return []
    return [
        "",
        f"## Classroom: {room['sessions']} browser sessions of the teaching app on one server "
        "(benchmarks/classroom.py)",
        "",
        f"Each session pressed Step {room['steps_per_session']} times, about {room['pause_s']:g} s apart, all "
        "starting together once every page had loaded; browsers at the lowest CPU priority on the same machine. "
        "Server time per session-step: from the start of the step to the message that sends its update.",
        "",
        "| pages loaded | server step p50 | p95 | max | server CPU per session-step | page ready p50 / max | "
        "step seen by the browser p50 / p95 | memory idle / open / after | per session | released after |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {room.get('pages_loaded', room['sessions'])} of {room['sessions']} | "
        f"{room['server_step_ms_p50']:.0f} ms | {room['server_step_ms_p95']:.0f} ms | "
        f"{room['server_step_ms_max']:.0f} ms | {room['server_cpu_s_per_session_step'] * 1000:.0f} ms | "
        f"{room['page_ready_s_p50']:.1f} / {room['page_ready_s_max']:.1f} s | "
        f"{room['browser_step_s_p50']:.2f} / {room['browser_step_s_p95']:.2f} s | "
        f"{room['rss_idle_mb']:.0f} / {room['rss_open_mb']:.0f} / "
        f"{' then '.join(f'{x:.0f}' for x in room.get('rss_after_waves_mb', [room['rss_after_mb']]))} MB | "
        f"{room['rss_per_session_mb']:.1f} MB | {room['released_within_s']:.0f} s ({room['released']} of "
        f"{room['opened']}; --release {room['release_s']:g} s) |",
        *(["", "Pages that never showed the app:", ""] if room.get("unloaded") else []),
        *(f"- {line}" for line in room.get("unloaded", [])),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.classroom", description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds a student waits between presses")
    parser.add_argument("--release", type=float, default=20.0, help="the server's --release (seconds)")
    parser.add_argument("--arrive", type=float, default=0.5, help="seconds between two students opening the page")
    parser.add_argument("--waves", type=int, default=1, help="the class comes back this many times (memory reuse)")
    parser.add_argument("--out", type=Path, help="also write classroom.json and classroom.md into this folder")
    args = parser.parse_args(argv)
    keep = args.out / "classroom_server.jsonl" if args.out is not None else None
    if keep is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    res = run_classroom(args.sessions, args.steps, args.pause, args.release, args.arrive, waves=args.waves, keep=keep)
    text = "\n".join(markdown(res)).strip() + "\n"
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "classroom.json").write_text(json.dumps(res, indent=1) + "\n")
        (args.out / "classroom.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
