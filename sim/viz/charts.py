"""The live plots as ECharts options (pure: a model in, a JSON-ready dict out).

The browser draws them (ECharts 5.4.0, served by the app from the `solara-assets` bundle), so a step
costs the server a few milliseconds of list building instead of a matplotlib render; hovering shows
the values and clicking a legend entry hides or shows a line. Every time plot spans the whole run
(0..steps) with the exposure schedule E(t) as a grey area on its own right-hand axis, and a dotted
line at the current step. A plot's title is the heading of its panel in the page (`chart_title`), not
part of the drawing, so the page can lay it out and check it like any other text.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np

from sim.config.params import PROFESSIONS
from sim.viz.history import TeachingModel
from sim.viz.layout import EDGE_CAP, group_centres, new_ties, node_style, stance_colors, visible_ties

FONT = 11
COLORS = {
    "mean": "#333333",
    "adopters": "#2166ac",
    "resisters": "#b2182b",
    "withdrawn": "#542788",
    "overloaded": "#e66101",
    "marginalized": "#b2182b",
    "esteban_ray": "#7b3294",
    "bimodality": "#e08214",
    "clusters": "#1b7837",
    "exposure": "#9e9e9e",
}
PROFESSION_NAME = {"social_work": "social work", "health_care": "health care"}
# one legend entry per profession (same-name series toggle together); the colour says which measure
PROFESSION_LEGEND = {"social_work": "social work (dotted)", "health_care": "health care (dashed)"}
PROFESSION_DASH = {"social_work": "dotted", "health_care": "dashed"}
LEDGER = (
    ("ledger_only_positive", "only positive", "#4dac26"),
    ("ledger_mixed", "mixed", "#8073ac"),
    ("ledger_only_negative", "only negative", "#d01c8b"),
    ("ledger_none", "none yet", "#999999"),
)


def _num(x: float, digits: int = 4) -> float | str:
    """A JSON-safe number (ECharts reads '-' as a missing value; JSON has no NaN)."""
    x = float(x)
    return round(x, digits) if math.isfinite(x) else "-"


def _nice_max(x: float) -> float:
    """A round axis maximum at or above x."""
    if not (math.isfinite(x) and x > 0):
        return 1.0
    p = 10 ** math.floor(math.log10(x))
    return next(round(m * p, 12) for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * p >= x - 1e-12)


def _pairs(t, y) -> list[list]:
    return [[int(a), _num(b)] for a, b in zip(t, y, strict=True)]


def _line(name: str, t, y, color: str, *, dash: str = "solid", width: float = 2, y_axis: int = 0, **extra) -> dict:
    return {
        "name": name,
        "type": "line",
        "data": _pairs(t, y),
        "showSymbol": False,
        "yAxisIndex": y_axis,
        "lineStyle": {"color": color, "type": dash, "width": width},
        "itemStyle": {"color": color},
        "emphasis": {"disabled": True},
        **extra,
    }


def exposure_series(model: TeachingModel, y_axis: int = 1) -> dict:
    t, e = model.schedule_t, model.schedule_e
    s = _line(
        "exposure E(t)",
        t,
        e,
        COLORS["exposure"],
        width=1,
        y_axis=y_axis,
        step="end",
        z=0,
        areaStyle={"color": COLORS["exposure"], "opacity": 0.09},
        silent=True,
    )
    s["markLine"] = {
        "silent": True,
        "symbol": "none",
        "label": {"show": True, "formatter": "now", "fontSize": 9},
        "lineStyle": {"color": "#555", "type": "dotted"},
        "data": [{"xAxis": int(model.state.t)}],
    }
    return s


# Panel headings.
TITLES = {
    "stance": "Stance: mean, adopters and resisters",
    "histogram": "Stance distribution",
    "polarization": "Polarization",
    "withdrawal": "Withdrawal, overload and marginalization",
    "ledger": "Effect ledger: effects each agent has had so far",
}


def chart_title(name: str) -> str:
    """The heading of a plot's panel (the same for the whole run: what changes is in the caption)."""
    return TITLES[name]


def chart_caption(name: str, model: TeachingModel) -> str:
    """The line above a plot that changes with the step (HTML; empty for most plots)."""
    if name == "histogram":
        return f"<b>Step {model.state.t}</b> (bars), and step 0 (dashed line)"
    return ""


def _base(
    model: TeachingModel,
    y_name: str,
    *,
    y_max: float | None = 1.0,
    legend_selected: dict | None = None,
    grid_top: int = 58,
) -> dict:
    e_max = float(np.max(model.schedule_e)) if len(model.schedule_e) else 1.0
    y_axis = {
        "type": "value",
        "min": 0,
        "name": y_name,
        "nameLocation": "middle",
        "nameGap": 34,
        "nameTextStyle": {"fontSize": FONT},
        "axisLabel": {"fontSize": FONT - 1},
        "splitLine": {"lineStyle": {"opacity": 0.4}},
    }
    if y_max is not None:
        y_axis["max"] = y_max
    legend = {
        "top": 0,
        "left": 8,
        "right": 8,
        "itemWidth": 18,
        "itemHeight": 8,
        "itemGap": 8,
        "textStyle": {"fontSize": FONT - 1},
    }
    if legend_selected:
        legend["selected"] = legend_selected
    return {
        "animation": False,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "line"}, "textStyle": {"fontSize": FONT}},
        "legend": legend,
        "grid": {"left": 52, "right": 54, "top": grid_top, "bottom": 40},
        "xAxis": {
            "type": "value",
            "min": 0,
            "max": max(int(model.cfg.steps), 1),
            "name": "step (working day)",
            "nameLocation": "middle",
            "nameGap": 24,
            "nameTextStyle": {"fontSize": FONT},
            "axisLabel": {"fontSize": FONT - 1},
            "splitLine": {"show": False},
        },
        "yAxis": [
            y_axis,
            {
                "type": "value",
                "min": 0,
                "max": _nice_max(e_max * 1.8),
                "name": "E(t)",
                "nameLocation": "middle",
                "nameGap": 30,
                "position": "right",
                "nameTextStyle": {"fontSize": FONT, "color": COLORS["exposure"]},
                "axisLabel": {"fontSize": FONT - 1, "color": COLORS["exposure"]},
                "splitLine": {"show": False},
            },
        ],
        "series": [exposure_series(model)],
    }


def _finish(option: dict) -> dict:
    """Legend entries: every named series but E(t) (its axis is labelled), each name once."""
    names = [s["name"] for s in option["series"] if s["name"] != "exposure E(t)"]
    option["legend"]["data"] = list(dict.fromkeys(names))
    return option


def stance_chart(model: TeachingModel) -> dict:
    """Mean stance, adopter and resister shares over time, by profession (the profession lines start hidden)."""
    h = model.history
    t = h.steps
    opt = _base(model, "stance / share of agents")
    opt["series"] += [
        _line("mean stance", t, h.array("stance_mean"), COLORS["mean"], width=2.5),
        _line("adopters", t, h.array("adopter_share"), COLORS["adopters"]),
        _line("resisters", t, h.array("resister_share"), COLORS["resisters"]),
    ]
    for p in PROFESSIONS:
        d, name, dash = h.by_profession[p], PROFESSION_LEGEND[p], PROFESSION_DASH[p]
        opt["series"] += [
            _line(name, t, d["stance_mean"], COLORS["mean"], dash=dash, width=1.5),
            _line(name, t, d["adopter_share"], COLORS["adopters"], dash=dash, width=1.5),
            _line(name, t, d["resister_share"], COLORS["resisters"], dash=dash, width=1.5),
        ]
    return _finish(opt)


def histogram_chart(model: TeachingModel) -> dict:
    """The stance distribution now (bars coloured on the network's scale) and at step 0 (line)."""
    h = model.history
    k = len(h.histogram)
    centres = (np.arange(k) + 0.5) / k
    colors = stance_colors(centres)
    first_histogram = cast(np.ndarray, h.first_histogram)  # recorded when the model was built
    total, first_total = max(h.histogram.sum(), 1.0), max(np.sum(first_histogram), 1.0)
    labels = [f"{i / k:.2f}-{(i + 1) / k:.2f}" for i in range(k)]
    bars = [{"value": _num(c / total), "itemStyle": {"color": hex_color(colors[i])}} for i, c in enumerate(h.histogram)]
    return {
        "animation": False,
        "tooltip": {"trigger": "axis", "textStyle": {"fontSize": FONT}},
        "legend": {"top": 0, "left": 8, "textStyle": {"fontSize": FONT - 1}, "itemHeight": 8},
        "grid": {"left": 52, "right": 20, "top": 36, "bottom": 46},
        "xAxis": {
            "type": "category",
            "data": labels,
            "name": "stance: 0 resisting ... 1 dominant discourse",
            "nameLocation": "middle",
            "nameGap": 28,
            "nameTextStyle": {"fontSize": FONT},
            "axisLabel": {"fontSize": FONT - 2, "interval": 4},
        },
        "yAxis": {
            "type": "value",
            "min": 0,
            "name": "share of agents",
            "nameLocation": "middle",
            "nameGap": 36,
            "nameTextStyle": {"fontSize": FONT},
            "axisLabel": {"fontSize": FONT - 1},
        },
        "series": [
            {"name": "now", "type": "bar", "data": bars, "barCategoryGap": "8%", "itemStyle": {"color": "#6a8caf"}},
            {
                "name": "at step 0",
                "type": "line",
                "step": "middle",
                "showSymbol": False,
                "data": [_num(c / first_total) for c in first_histogram],
                "lineStyle": {"color": "#222", "type": "dashed", "width": 1.5},
                "itemStyle": {"color": "#222"},
            },
        ],
    }


def polarization_chart(model: TeachingModel) -> dict:
    h = model.history
    t = h.steps
    opt = _base(model, "index (0 to 1)")
    clusters = h.array("n_major_clusters")
    top = max(3.0, float(np.nanmax(clusters, initial=1.0)) + 1)
    opt["yAxis"].append(
        {
            "type": "value",
            "min": 0,
            "max": top,
            "minInterval": 1,
            "name": "clusters",
            "position": "right",
            "offset": 44,
            "nameLocation": "middle",
            "nameGap": 22,
            "nameTextStyle": {"fontSize": FONT, "color": COLORS["clusters"]},
            "axisLabel": {"fontSize": FONT - 1, "color": COLORS["clusters"]},
            "splitLine": {"show": False},
        }
    )
    opt["grid"]["right"] = 90
    opt["series"] += [
        _line("Esteban-Ray polarization", t, h.array("esteban_ray"), COLORS["esteban_ray"]),
        _line(
            "bimodality coefficient",
            t,
            h.array("bimodality"),
            COLORS["bimodality"],
            markLine={
                "silent": True,
                "symbol": "none",
                "lineStyle": {"color": COLORS["bimodality"], "type": "dotted"},
                "label": {"formatter": "5/9: bimodal above", "fontSize": 9, "position": "insideEndTop"},
                "data": [{"yAxis": round(5 / 9, 4)}],
            },
        ),
        _line("major opinion clusters", t, clusters, COLORS["clusters"], y_axis=2, step="end", width=1.5),
    ]
    return _finish(opt)


def withdrawal_chart(model: TeachingModel) -> dict:
    h = model.history
    t = h.steps
    values = [h.array(m) for m in ("withdrawn_share", "overloaded_share", "marginalized_share")]
    values += [
        np.asarray(h.by_profession[p][m], float) for p in PROFESSIONS for m in ("withdrawn_share", "overloaded_share")
    ]
    top = max([float(np.nanmax(v, initial=0.0)) for v in values] + [0.0])
    y_max = min(1.0, max(0.1, math.ceil(top * 1.2 * 10) / 10))
    opt = _base(model, "share of agents", y_max=y_max)
    opt["series"] += [
        _line("withdrawn", t, values[0], COLORS["withdrawn"]),
        _line("overloaded", t, values[1], COLORS["overloaded"]),
        _line("marginalized", t, values[2], COLORS["marginalized"], width=1.5),
    ]
    for p in PROFESSIONS:
        d, name, dash = h.by_profession[p], PROFESSION_LEGEND[p], PROFESSION_DASH[p]
        opt["series"] += [
            _line(name, t, d["withdrawn_share"], COLORS["withdrawn"], dash=dash, width=1.5),
            _line(name, t, d["overloaded_share"], COLORS["overloaded"], dash=dash, width=1.5),
        ]
    return _finish(opt)


def ledger_chart(model: TeachingModel) -> dict:
    h = model.history
    t = h.steps
    opt = _base(model, "share of agents")
    for key, name, color in LEDGER:
        opt["series"].append(
            _line(
                name,
                t,
                h.array(key),
                color,
                width=2.2 if key != "ledger_none" else 1.5,
                dash="solid" if key != "ledger_none" else "dashed",
            )
        )
    return _finish(opt)


def hex_color(rgba) -> str:
    r, g, b = (int(round(255 * float(c))) for c in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _hexes(rgba: np.ndarray) -> list[str]:
    """'#rrggbb' for each row of an (n, 4) RGBA array."""
    rgb = np.rint(np.clip(np.asarray(rgba, float)[:, :3], 0.0, 1.0) * 255).astype(np.int64)
    code = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    return [f"#{c:06x}" for c in code.tolist()]


# The network view: agents at fixed positions as data, drawn by the browser (an ECharts graph with no
# layout of its own). A step sends colours, rings and ties; nothing is rendered on the server.
NETWORK_STYLE = {
    "in_group": "#8c8c8c",  # a tie inside a group
    "between": "#7b3294",  # a tie between groups
    "new": "#1a9850",  # formed or rewired this step
}
PROFESSION_SYMBOL = {"social_work": "circle", "health_care": "rect"}


def node_size(n: int) -> float:
    """Marker diameter in pixels, shrinking with the number of agents (legible at 200, distinct at 1,000)."""
    return float(np.clip(110.0 / math.sqrt(max(n, 1)), 4.0, 11.0))


def network_chart(model: TeachingModel, edge_cap: int = EDGE_CAP) -> dict:
    """Agents coloured by stance (withdrawn hollow), round or square by profession, ties by kind; groups named.

    Positions are the model's fixed layout (`model.layout`), fitted to the panel by the browser keeping
    their aspect; muted and cut ties are not drawn, and above `edge_cap` ties a stable sample is.
    """
    return network_view(model, edge_cap)[0]


def network_counts(model: TeachingModel, edge_cap: int = EDGE_CAP) -> dict[str, int]:
    """What the network view's caption says: agents, groups, active ties (and how many drawn), new, withdrawn."""
    return network_view(model, edge_cap)[1]


def network_view(model: TeachingModel, edge_cap: int = EDGE_CAP) -> tuple[dict, dict[str, int]]:
    """The network's option and its counts, from one pass over the ties."""
    state, pos = model.state, model.layout
    n = state.n_agents
    edges = state.ties.edges()
    u, v, shown, visible = visible_ties(edges, edge_cap)
    nu, nv = new_ties(model.last_report, edges)
    face, ring = node_style(state.stance, state.withdrawn)
    faces, rings = _hexes(face), _hexes(ring)
    symbols = [PROFESSION_SYMBOL[p] for p in PROFESSIONS]
    withdrawn = state.withdrawn.tolist()
    xy = np.round(pos * 100, 2).tolist()
    stance = np.round(state.stance, 3).tolist()
    profession = state.profession.tolist()
    nodes: list[dict] = [
        {
            "name": str(i),
            "x": xy[i][0],
            "y": -xy[i][1],  # the screen's y grows downwards
            "value": stance[i],
            "symbol": symbols[profession[i]],
            "itemStyle": {"color": faces[i], "borderColor": rings[i], "borderWidth": 1.6 if withdrawn[i] else 0.5},
        }
        for i in range(n)
    ]
    labels, centres = group_centres(pos, state.group)
    if len(labels) <= 20:  # a name above each group's disc, as a node with no symbol (links never point to it)
        for g, c in zip(labels, centres, strict=True):
            r = float(np.linalg.norm(pos[state.group == g] - c, axis=1).max(initial=0.0))
            nodes.append(
                {
                    "name": f"group {int(g) + 1}",
                    "x": round(float(c[0]) * 100, 2),
                    "y": round(-(float(c[1]) + r) * 100 - 5, 2),
                    "symbolSize": 0,
                    "label": {"show": True, "formatter": "{b}", "fontSize": 10, "color": "#444"},
                    "tooltip": {"show": False},
                }
            )
    same = (state.group[u] == state.group[v]).tolist()
    between = {"color": NETWORK_STYLE["between"], "opacity": 0.5}
    links: list[dict] = [
        {"source": a, "target": b} if s else {"source": a, "target": b, "lineStyle": between}
        for a, b, s in zip(u.tolist(), v.tolist(), same, strict=True)
    ]
    new = {"color": NETWORK_STYLE["new"], "width": 2.4, "opacity": 0.95}
    links += [{"source": a, "target": b, "lineStyle": new} for a, b in zip(nu.tolist(), nv.tolist(), strict=True)]
    fade = 1.0 if len(u) <= 1500 else 0.6  # many ties: lighter lines, so the agents stay readable
    counts = {
        "agents": int(n),
        "groups": len(labels),
        "ties": visible,
        "drawn": shown,
        "new": len(nu),
        "withdrawn": int(sum(withdrawn)),
    }
    option = {
        "animation": False,
        "tooltip": {"show": True, "textStyle": {"fontSize": FONT}},
        "series": [
            {
                "type": "graph",
                "layout": "none",
                "left": "center",  # no width or height: the browser keeps the layout's aspect
                "top": "middle",
                "data": nodes,
                "links": links,
                "symbolSize": node_size(n),
                "roam": False,
                "emphasis": {"disabled": True},
                "lineStyle": {
                    "color": NETWORK_STYLE["in_group"],
                    "width": 0.7 if n <= 300 else 0.4,
                    "opacity": 0.4 * fade,
                },
                "tooltip": {"formatter": "agent {b}: stance {c}"},
            }
        ],
    }
    return option, counts


CHARTS = {
    "histogram": histogram_chart,
    "stance": stance_chart,
    "polarization": polarization_chart,
    "withdrawal": withdrawal_chart,
    "ledger": ledger_chart,
}
