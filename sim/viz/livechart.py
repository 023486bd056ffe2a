"""Charts the browser draws, sent as deltas: the server keeps the full ECharts options, the browser a copy.

A step changes a few things in a view: each line of a plot gains a point, the "now" marker moves, perhaps
an axis grows; in the network a few ties come and go and the agents' stances move. `OptionStream`
keeps the last option of one view and turns the next into a small message that rebuilds it: the points
appended to each series, the list items changed in place (by their changed fields), the items spliced in
and out of a list, the fields replaced, or the whole option when its structure changed. `apply_patch` is
the browser's rule (`livechart.vue`) in Python, for the tests. Messages are JSON text (one string
trait), so neither reacton nor ipywidgets walks the option's thousands of items to compare or serialize it.

The browser (`livechart.vue`) applies a delta only to the version it was computed from (each message
carries its sequence number and the one it follows). A page that missed one (opened or reconnected
mid-run) asks for the whole option again, so what it shows is always the server's current option. The
deltas of all views of a step travel in one message (`Feed`, `feed.vue`), set by the run controls
without a render (`sim.viz.controller`): one websocket message per step rather than one per view.
"""

from __future__ import annotations

import bisect
import json
import threading
from typing import Any

import ipyvuetify
import traitlets


def _merge_fields(a: Any, b: Any) -> dict | None:
    """The fields of dict `a` changed in `b` (nested dicts as their changes); None unless both have the same keys."""
    if not (isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b)):
        return None
    merge = {}
    for k, v in b.items():
        if a[k] == v:
            continue
        if isinstance(a[k], dict) or isinstance(v, dict):
            inner = _merge_fields(a[k], v)
            if inner is None:
                return None
            merge[k] = inner
        else:
            merge[k] = v
    return merge


def _item_change(a: Any, b: Any) -> dict:
    """The change of one list item: {"merge": fields changed} (dicts of the same shape), else {"put": b}."""
    merge = _merge_fields(a, b)
    return {"put": b} if merge is None else {"merge": merge}


def _lis(values: list[int]) -> list[int]:
    """Positions (in `values`) of one longest strictly increasing subsequence, by patience sorting."""
    tails: list[int] = []  # tails[k]: position of the smallest tail of an increasing run of length k + 1
    prev = [-1] * len(values)
    for i, v in enumerate(values):
        k = bisect.bisect_left(tails, v, key=values.__getitem__)
        if k > 0:
            prev[i] = tails[k - 1]
        if k == len(tails):
            tails.append(i)
        else:
            tails[k] = i
    out, i = [], tails[-1] if tails else -1
    while i >= 0:
        out.append(i)
        i = prev[i]
    return out[::-1]


def _splices(a: list, b: list, keys: dict[int, list[str]] | None = None) -> list[list] | None:
    """Edits that turn list `a` into `b`, applied in order: [[at, delete, [items]], ...]; None if none is smaller.

    Items are matched by their text (`repr`): the kept ones are a longest run of items in the same order
    in both lists, so a list that lost a few items and gained a few (the network's ties) travels as
    those few. Lists with a repeated item are sent whole. `keys` keeps the texts of the lists seen (by
    `id`), so that the next step's diff need not make those of its old list again.
    """
    keys = {} if keys is None else keys
    keys_a = keys.get(id(a)) or [repr(x) for x in a]
    keys_b = keys[id(b)] = [repr(x) for x in b]
    where = {k: j for j, k in enumerate(keys_b)}
    if len(where) != len(b):
        return None
    matched = [(i, where[k]) for i, k in enumerate(keys_a) if k in where]
    kept = [matched[m] for m in _lis([j for _, j in matched])]
    ops: list[list] = []
    pi, pj, inserted = -1, -1, 0
    for ci, cj in [*kept, (len(a), len(b))]:
        if ci - pi > 1 or cj - pj > 1:
            ops.append([pj + 1, ci - pi - 1, b[pj + 1 : cj]])
            inserted += cj - pj - 1
        pi, pj = ci, cj
    return ops if inserted <= len(b) // 2 else None


def _list_change(a: list, b: list, keys: dict[int, list[str]] | None = None) -> dict | None:
    """The change of a list field; None: send it whole.

    {"append": items} when `b` extends `a`; {"items": {i: change}} for a list of the same length whose
    items changed in place (the agents' stances); {"splice": edits} for items gained and lost (the
    ties), also when the count happens to stay the same.
    """
    if len(b) > len(a) and b[: len(a)] == a:
        return {"append": b[len(a) :]}
    items = None
    if len(a) == len(b):
        items = {str(i): _item_change(x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y}
        if len(items) <= max(1, len(b) // 8) or all("merge" in c for c in items.values()):
            return {"items": items}
    ops = _splices(a, b, keys)
    if ops is not None:
        return {"splice": ops}
    return {"items": items} if items is not None and len(items) <= max(1, len(b) // 2) else None


def _series_delta(old: dict, new: dict, keys: dict[int, list[str]] | None = None) -> dict | None:
    """What turns series `old` into `new`; None if equal.

    {"set": fields replaced, "append": points added to `data`, "edit": {field: change of a list}}.
    Raises KeyError when a field went away (the caller then sends the whole option).
    """
    if old == new:
        return None
    if set(old) - set(new):
        raise KeyError("a series lost a field")
    out: dict[str, Any] = {}
    changed: dict[str, Any] = {}
    edits: dict[str, Any] = {}
    for k, b in new.items():
        a = old.get(k, _MISSING)
        if a == b:
            continue
        change = _list_change(a, b, keys) if isinstance(a, list) and isinstance(b, list) else None
        if change is None:
            changed[k] = b
        elif k == "data" and "append" in change:
            out["append"] = change["append"]
        else:
            edits[k] = change
    if changed:
        out["set"] = changed
    if edits:
        out["edit"] = edits
    return out


def _merge(target: dict, fields: dict) -> None:
    for k, v in fields.items():
        if isinstance(v, dict) and isinstance(target.get(k), dict):
            _merge(target[k], v)
        else:
            target[k] = v


def apply_patch(option: dict, patch: dict) -> dict:
    """The browser's rule (livechart.vue), in Python: `option` changed in place by a patch's `top` and `series`."""
    option.update(patch["top"])
    for i, change in patch["series"].items():
        series = option["series"][int(i)]
        series.update(change.get("set", {}))
        if "append" in change:
            series["data"] += change["append"]
        for field, edit in change.get("edit", {}).items():
            values = series[field]
            if "append" in edit:
                values += edit["append"]
            for j, item in edit.get("items", {}).items():
                if "put" in item:
                    values[int(j)] = item["put"]
                else:
                    _merge(values[int(j)], item["merge"])
            for at, delete, items in edit.get("splice", []):
                values[at : at + delete] = items
    return option


_MISSING = object()


def delta(old: dict | None, new: dict, keys: dict[int, list[str]] | None = None) -> dict | None:
    """The change from option `old` to `new`: {"top": ..., "series": {i: ...}}; None if only the whole option can do.

    `keys`: the item texts of lists diffed before (see `_splices`), updated with those of `new`.
    """
    if old is None or set(old) != set(new):
        return None
    old_series, new_series = old.get("series", []), new.get("series", [])
    if len(old_series) != len(new_series):
        return None
    top = {k: v for k, v in new.items() if k != "series" and old[k] != v}
    try:
        series = {
            str(i): d
            for i, (a, b) in enumerate(zip(old_series, new_series, strict=True))
            if (d := _series_delta(a, b, keys))
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
        self._keys: dict[int, list[str]] = {}

    def update(self, option: dict) -> dict:
        """Take the chart's next option; return {"full": ...} (structure changed) or {"patch": ...} (the change)."""
        with self._lock:
            keys = dict(self._keys)  # the old option's lists (alive in self.option, so their ids are theirs)
            change = delta(self.option, option, keys)
            self._keys = {k: v for k, v in keys.items() if k not in self._keys}  # the new option's lists
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

    Its browser side hands the message to the page's views and step counter (a DOM event), so a step costs
    one websocket message and no render on the server, whatever the number of views (`controller`).
    """

    template_file = (__file__, "feed.vue")
    payload = traitlets.Unicode("").tag(sync=True)


def feed_payload(messages: dict[str, Any]) -> str:
    """The Feed's text: {view name: {"full"|"patch": ..., "caption"?: html, "legend"?: html}, "time": t}."""
    return _json(messages)
