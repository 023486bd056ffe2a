"""`python -m sim.viz [--port PORT] [--host HOST]`: serve the teaching app and print its URL.

Listens on 127.0.0.1 (this machine only) unless `--host 0.0.0.0` shares it with a classroom network.
Without `--port` a free port is chosen. Everything the page loads is served by this process (Solara's
JavaScript from the `solara-assets` bundle), so it works without internet: no version check, no
telemetry, no CDN.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import socket
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import cast

APP = "sim.viz.app"
#: Seconds after which the session of a page that went away without closing its tab (a lost connection, a
#: killed browser, a laptop put to sleep) is freed; Solara's own default is 24 hours.
RELEASE_S = 120.0
#: Seconds the server waits for a browser's answer to its keep-alive ping before it drops the connection
#: (uvicorn's default is 20). A page's first load queues hundreds of widget messages ahead of the ping; a
#: browser busy drawing them (a class of 30 opening the app together, a slow laptop) answered too late, its
#: connection was dropped, and the page stayed at "Loading app" (15 of 30 pages in one measurement).
WS_PING_TIMEOUT_S = 120.0
#: Python's garbage collector in the server: young objects collected as usual (every `GC_YOUNG` new
#: container objects), the old ones only after a session closes (Solara collects then) or after
#: `GC_FULL_AFTER` young collections. By default a full collection runs whenever the long-lived objects
#: grew by a quarter: with a class's sessions open (widgets, models) one took seconds, a pause of every
#: session at once (39 collections over 20 ms, the longest 4.7 s, in one 30-session measurement).
GC_YOUNG, GC_FULL_AFTER = 1_000, 1_000


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host if host != "0.0.0.0" else "", 0))
        return s.getsockname()[1]


def local_assets_dir() -> Path:
    """Where solara-assets installs the JavaScript bundle Solara would otherwise fetch from a CDN."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def offline_ready() -> bool:
    return (local_assets_dir() / "@widgetti").is_dir() and (local_assets_dir() / "requirejs@2.3.6").is_dir()


def lan_addresses() -> list[str]:
    """Addresses of this machine a class can reach (best effort, no packet is sent)."""
    found: list[str] = []
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(cast(str, info[4][0]))  # an IPv4 address
    except OSError:
        pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))  # UDP connect: picks the outgoing interface, sends nothing
            found.append(s.getsockname()[0])
    except OSError:
        pass
    return sorted({a for a in found if not a.startswith("127.")})


def _announce_when_ready(host: str, port: int) -> None:
    """Print the URL once the server accepts connections."""
    probe = "127.0.0.1" if host in ("0.0.0.0", "") else host
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((probe, port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    print(f"Teaching app running at http://{shown}:{port}/", flush=True)
    if host in ("0.0.0.0", ""):
        for addr in lan_addresses():
            print(f"  shared with the class at http://{addr}:{port}/", flush=True)
    print("Press Ctrl+C to stop.", flush=True)


def _warm_up() -> None:
    """Compile the model's step (numba) and build each view's data once, as the server starts (`_start_up`)."""
    try:
        from sim.run.compilenote import READY, announce_compilation, compiled

        announce_compilation(sys.stdout, terminal_only=False)  # the app's console: why a first page may wait
        from sim.viz import controls
        from sim.viz.charts import CHARTS, network_chart
        from sim.viz.history import TeachingModel

        model = TeachingModel(controls.initial_config())  # the kernels a first visitor's run calls
        model.step()
        network_chart(model)
        for make in CHARTS.values():
            make(model)
        if compiled():  # after "compiling...": say when pages respond at full speed
            print(f"{READY}: pages respond at full speed", flush=True)
    except Exception as err:  # never stop the server for this
        print(f"warm-up failed: {err}", file=sys.stderr, flush=True)


def _start_up() -> None:
    """The warm-up, then the garbage collector's settings (what the warm-up made is never scanned again)."""
    _warm_up()
    _collect_rarely()


def _collect_rarely() -> None:
    """The garbage collector as `GC_YOUNG` and `GC_FULL_AFTER` say; what the start-up made is never scanned again."""
    import gc

    gc.collect()
    gc.freeze()  # the modules, compiled kernels and cached compositions: alive for the server's whole life
    gc.set_threshold(GC_YOUNG, 10, GC_FULL_AFTER)


def _websocket_settings() -> None:
    """Uvicorn's keep-alive as `WS_PING_TIMEOUT_S` says (Solara's command line does not pass it through)."""
    import uvicorn

    init = uvicorn.Config.__init__
    if getattr(init, "sim_viz", False):
        return

    @functools.wraps(init)
    def config_init(self, *args, **kwargs):
        kwargs.setdefault("ws_ping_timeout", WS_PING_TIMEOUT_S)
        init(self, *args, **kwargs)

    config_init.sim_viz = True  # type: ignore[attr-defined]
    uvicorn.Config.__init__ = config_init  # type: ignore[method-assign]


def _port(text: str) -> int:
    """--port: a TCP port, 1-65535 (a number outside made the socket raise a traceback)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port: {text!r} (a whole number 1-65535)") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port: {port} (a whole number 1-65535)")
    return port


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sim.viz", description="Serve the teaching app in a browser.")
    parser.add_argument("--port", type=_port, default=None, help="port to listen on (default: a free port)")
    parser.add_argument(
        "--release",
        type=float,
        default=RELEASE_S,
        metavar="SECONDS",
        help=f"free a session this long after its page went away without closing (default {RELEASE_S:.0f}: a "
        "dropped connection can come back within it); a closed tab is freed at once",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 shares it "
        "with every machine that can reach this one, e.g. a classroom)",
    )
    return parser.parse_args(argv)


def port_free(host: str, port: int) -> bool:
    """Whether the server can listen on the port now.

    Like uvicorn, it ignores connections of a previous server waiting out TCP's TIME_WAIT (SO_REUSEADDR),
    so the app restarts on the same port at once.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host if host != "0.0.0.0" else "", port))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        port = args.port if args.port is not None else free_port(args.host)
    except OSError as err:  # --host is not an address of this machine (or a name that does not resolve)
        print(
            f"error: cannot listen on --host {args.host} ({err.strerror or err}); leave it out for this "
            "machine only, or give 0.0.0.0 to share the app with the room",
            file=sys.stderr,
        )
        sys.exit(2)
    if not port_free(args.host, port):
        print(
            f"error: cannot listen on {args.host}:{port} (in use, or not an address of this machine); "
            "choose another --port or leave it out for a free one",
            file=sys.stderr,
        )
        sys.exit(2)
    # offline and quiet: no telemetry, no version check against PyPI, assets from the local bundle
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_THEME_LOADER", "plain")
    if not (args.release > 0 and math.isfinite(args.release)):  # nan and inf pass a comparison with 0
        print(f"error: --release={args.release:g} must be a number of seconds > 0", file=sys.stderr)
        sys.exit(2)
    os.environ["SOLARA_KERNEL_CULL_TIMEOUT"] = f"{args.release:g}s"
    # Each session steps its model in its own thread, and the app's models are small: their kernels run on
    # one thread each (sim.core.threads: one below PARALLEL_FROM agents); the sessions are the parallelism.
    # NUMBA_NUM_THREADS is not set here: a user may have numba imported already (sim.viz.main from Python),
    # and a changed variable would make numba refuse the next compilation once its threads run ("Cannot
    # set NUMBA_NUM_THREADS to a different value once the threads have been launched"), failing the page
    # of a session that compiles.
    if not offline_ready():
        print(
            f"warning: Solara's local assets are missing ({local_assets_dir()}); the page will fetch its "
            "JavaScript from the internet. Install the pinned 'solara-assets' to work offline.",
            file=sys.stderr,
            flush=True,
        )
    # Solara warns at every new session that its samesite=none cookie needs https and falls back to lax,
    # which is what a class on http://HOST:PORT needs: the warning says nothing a teacher can act on
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    # numba imported here, before any other thread may import it: the warm-up's thread and the server's
    # import of the app would otherwise import it side by side, which can deadlock on llvmlite's lock
    import sim.core.kernels  # noqa: F401

    # the warm-up compiles the kernels on a fresh install (half a minute): the server starts meanwhile and
    # prints its URL at once; a first visitor's run waits for the kernels it needs (numba's compile lock)
    threading.Thread(target=_start_up, name="sim-viz-warm-up", daemon=True).start()
    _websocket_settings()
    threading.Thread(target=_announce_when_ready, args=(args.host, port), daemon=True).start()
    from solara.__main__ import cli

    cli.main(
        [
            "run",
            APP,
            "--host",
            args.host,
            "--port",
            str(port),
            "--production",
            "--no-open",
            "--no-check-version",
            "--log-level-uvicorn",
            "warning",
            "--no-access-log",
        ],
        prog_name="python -m sim.viz",
        standalone_mode=True,
    )


if __name__ == "__main__":
    main()
