"""Charts the browser draws, sent as deltas: the server keeps the full ECharts options, the browser a copy.

A step changes a few things in a plot: each line gains a point, the "now" marker moves, perhaps an axis
grows. `OptionStream` keeps the last option of one chart and turns the next into the smallest message
that rebuilds it: the points appended to each series, the fields that changed, or the whole option
when its structure changed. Messages are JSON text (one string trait), so neither reacton nor ipywidgets
walks the option's thousands of items to compare or serialize it.

The browser (`livechart.vue`) applies a delta only to the version it was computed from (each message
carries its sequence number and the one it follows). A page that missed one (opened or reconnected
mid-run) asks for the whole option again, so what it shows is always the server's current option. The
deltas of all charts of a step travel in one message (`Feed`, `feed.vue`), so that a step costs the
server one small render and one websocket message rather than one per chart.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import ipyvuetify
import traitlets


def _series_delta(old: dict, new: dict) -> dict | None:
    """What turns series `old` into `new`: {"set": changed fields} and/or {"append": new points}; None if equal.

    Raises KeyError when a field went away (the caller then sends the whole option).
    """
    if old == new:
        return None
    if set(old) - set(new):
        raise KeyError("a series lost a field")
    out: dict[str, Any] = {}
    changed = {k: v for k, v in new.items() if k != "data" and old.get(k, _MISSING) != v}
    a, b = old.get("data"), new.get("data")
    if a != b:
        if isinstance(a, list) and isinstance(b, list) and len(b) > len(a) and b[: len(a)] == a:
            out["append"] = b[len(a) :]
        else:
            changed["data"] = b
    if changed:
        out["set"] = changed
    return out


_MISSING = object()


def delta(old: dict | None, new: dict) -> dict | None:
    """The change from option `old` to `new`: {"top": ..., "series": {i: ...}}; None if only the whole option can do."""
    if old is None or set(old) != set(new):
        return None
    old_series, new_series = old.get("series", []), new.get("series", [])
    if len(old_series) != len(new_series):
        return None
    top = {k: v for k, v in new.items() if k != "series" and old[k] != v}
    try:
        series = {
            str(i): d for i, (a, b) in enumerate(zip(old_series, new_series, strict=True)) if (d := _series_delta(a, b))
        }
    except KeyError:
        return None
    return {"top": top, "series": series}


class OptionStream:
    """The server's copy of one chart: its option, a sequence number, and the message that brings a page up to date."""

    def __init__(self) -> None:
        self.seq = 0
        self.option: dict | None = None
        self.caption = ""  # the latest caption and legend (HTML), for a chart (re)created mid-run
        self.legend = ""
        self._lock = threading.Lock()

    def update(self, option: dict) -> dict:
        """Take the chart's next option; return {"full": ...} (structure changed) or {"patch": ...} (the change)."""
        with self._lock:
            change = delta(self.option, option)
            self.seq += 1
            self.option = option
            if change is None:
                return {"full": {"seq": self.seq, "option": option}}
            return {"patch": {"seq": self.seq, "after": self.seq - 1, **change}}

    def current(self) -> str:
        """The whole current option as JSON text (a page that opens, or missed a message)."""
        with self._lock:
            return _json({"seq": self.seq, "option": self.option or {}})


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


class _Assets(ipyvuetify.VuetifyTemplate):
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)

    @traitlets.default("cdn")
    def _cdn(self):
        import solara.settings

        return None if solara.settings.assets.proxy else solara.settings.assets.cdn


class LiveChart(_Assets):
    """One chart in the browser: ECharts (from the app's local copy of Solara's assets) with a caption and legend.

    It is created once per run with the whole option (`full`); afterwards it is fed by the page's `Feed`
    (one message per step for every chart), and asks for `full` again (`resync`) when it missed a message.
    """

    template_file = (__file__, "livechart.vue")
    name = traitlets.Unicode("").tag(sync=True)
    full = traitlets.Unicode("").tag(sync=True)
    caption = traitlets.Unicode("").tag(sync=True)
    legend = traitlets.Unicode("").tag(sync=True)
    attributes = traitlets.Dict(default_value={}).tag(sync=True)
    stream = traitlets.Any(None)  # the OptionStream (server side only)

    def vue_resync(self, _data=None) -> None:
        if self.stream is not None:
            self.full = self.stream.current()


class Feed(_Assets):
    """The one message a step sends: for each chart its change, caption and legend, as JSON text.

    Its browser side hands the message to the page's charts (a DOM event), so a step costs one websocket
    message and one small render on the server, whatever the number of charts.
    """

    template_file = (__file__, "feed.vue")
    payload = traitlets.Unicode("").tag(sync=True)


def feed_payload(messages: dict[str, dict]) -> str:
    """The Feed's text: {chart name: {"full"|"patch": ..., "caption"?: html, "legend"?: html}}."""
    return _json(messages)
