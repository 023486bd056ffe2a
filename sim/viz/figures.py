"""The network view, drawn with matplotlib (pure: a model in, a Figure out).

Figures are built with `matplotlib.figure.Figure` (no pyplot state, safe across sessions and threads)
and rendered to PNG by `png`. The live plots are drawn by the browser (see `charts.py`).
"""

from __future__ import annotations

import io
from typing import Any, cast

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.config.params import PROFESSIONS
from sim.viz.history import TeachingModel
from sim.viz.layout import EDGE_CAP, group_centres, new_ties, node_style, stance_cmap, visible_ties

DPI = 100
PROFESSION_MARKER = {"social_work": "o", "health_care": "s"}
NEW_TIE_COLOR = "#1a9850"
BETWEEN_COLOR = "#7b3294"


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def node_size(n: int) -> float:
    """Marker area shrinking with the number of agents (legible at 200, still distinct at 1,000)."""
    return float(np.clip(9000.0 / max(n, 1), 10.0, 70.0))


def draw_network(model: TeachingModel, width: float = 7.2, height: float = 5.4, edge_cap: int = EDGE_CAP) -> Figure:
    """Agents at their fixed positions, coloured by stance; withdrawn hollow; muted ties hidden; new ties green."""
    state = model.state
    pos = model.layout
    n = state.n_agents
    fig = Figure(figsize=(width, height), dpi=DPI)
    side = min(1.0, height / width * 1.02)  # a square drawing area on the left, legend on the right
    ax = fig.add_axes((0.0, 0.0, side, 0.93))
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    edges = state.ties.edges()
    u, v, shown, visible = visible_ties(edges, edge_cap)
    same = state.group[u] == state.group[v]
    lw = 0.6 if n <= 300 else 0.35
    fade = 1.0 if shown <= 1500 else 0.6  # many ties: lighter lines, so the agents stay readable
    for mask, color, alpha in ((same, "0.55", 0.35 * fade), (~same, BETWEEN_COLOR, 0.45 * fade)):
        if mask.any():
            segs: Any = np.stack([pos[u[mask]], pos[v[mask]]], axis=1)  # LineCollection takes an (m, 2, 2) array
            ax.add_collection(LineCollection(segs, colors=color, linewidths=lw, alpha=alpha, zorder=1))
    nu, nv = new_ties(model.last_report, edges)
    if len(nu):
        segs = np.stack([pos[nu], pos[nv]], axis=1)
        ax.add_collection(LineCollection(segs, colors=NEW_TIE_COLOR, linewidths=2.4, alpha=0.95, zorder=2))
    face, edge = node_style(state.stance, state.withdrawn)
    size = node_size(n)
    for code, prof in enumerate(PROFESSIONS):
        sel = state.profession == code
        if sel.any():
            ax.scatter(
                pos[sel, 0],
                pos[sel, 1],
                s=size,
                c=face[sel],
                edgecolors=edge[sel],
                linewidths=cast(Any, np.where(state.withdrawn[sel], 1.4, 0.4)),
                marker=PROFESSION_MARKER[prof],
                zorder=3,
            )
    labels, centres = group_centres(pos, state.group)
    if len(labels) <= 20:
        for g, c in zip(labels, centres, strict=True):
            r = np.linalg.norm(pos[state.group == g] - c, axis=1).max(initial=0.0)
            ax.annotate(
                f"group {g + 1}",
                c + np.array([0.0, r + 0.02]),
                ha="center",
                va="bottom",
                fontsize=8,
                color="0.25",
                zorder=4,
            )
    ax.set_xlim(-1.08, 1.08)
    ax.set_ylim(-1.08, 1.14)
    sample = f", {shown:,} drawn" if shown < visible else ""
    fig.text(
        0.01,
        0.985,
        f"Step {state.t}    E(t) = {model.history.series['exposure'][-1]:.2f}",
        fontsize=11,
        fontweight="bold",
        va="top",
    )
    fig.text(
        0.01,
        0.945,
        f"{n:,} agents in {len(labels)} groups, {visible:,} active ties{sample}",
        fontsize=9,
        va="top",
        color="0.3",
    )
    withdrawn = int(state.withdrawn.sum())
    handles = [
        Line2D([], [], ls="", marker="o", ms=7, mfc="0.65", mec="0.2", label="social work"),
        Line2D([], [], ls="", marker="s", ms=7, mfc="0.65", mec="0.2", label="health care"),
        Line2D([], [], ls="", marker="o", ms=7, mfc="white", mec="0.35", mew=1.5, label=f"withdrawn ({withdrawn})"),
        Line2D([], [], color=NEW_TIE_COLOR, lw=2.4, label=f"new tie this step ({len(nu)})"),
        Line2D([], [], color="0.55", lw=1.2, alpha=0.7, label="tie in a group"),
        Line2D([], [], color=BETWEEN_COLOR, lw=1.2, alpha=0.7, label="tie between groups"),
    ]
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(side + 0.005, 0.88),
        fontsize=8.5,
        frameon=False,
        handlelength=1.6,
        borderaxespad=0.0,
    )
    cax = fig.add_axes((side + 0.03, 0.08, 0.035, 0.38))
    bar = fig.colorbar(_mappable(), cax=cax, orientation="vertical")
    bar.set_ticks([0, 0.5, 1])
    bar.set_ticklabels(["0 resisting", "0.5", "1 dominant\ndiscourse"])
    bar.ax.tick_params(labelsize=8.5)
    bar.ax.set_title("stance", fontsize=9, loc="left", pad=16)
    return fig


def _mappable():
    from matplotlib.cm import ScalarMappable

    return ScalarMappable(norm=Normalize(0, 1), cmap=stance_cmap())
