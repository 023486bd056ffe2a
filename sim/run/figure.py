"""The run's summary figure: what a person would put on a slide.

Every axis and legend is labelled in words with its unit, from `sim.metrics.catalog` (the one place
that says what a metric means). Drawn with matplotlib's object API (a `matplotlib.figure.Figure`,
never registered with pyplot), so neither importing this module nor drawing the figure touches
pyplot's state or the backend: a notebook that runs the model keeps showing its own figures.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from sim.metrics.catalog import CATALOG, axis_label
from sim.run import heap
from sim.run.io import atomic_path

if TYPE_CHECKING:  # the figure process (sim.run.drawer) draws from its plain copy of the records
    from sim.run.drawer import Records
    from sim.run.recorder import MetricsRecorder

PROFESSION_COLORS = {"social_work": "#b2182b", "health_care": "#2166ac"}
STEP = "step (one step = one working day)"
SHARE = "share of agents (0-1)"


def _label(metric: str) -> str:
    return CATALOG[metric].label


def _title(ax, text: str) -> None:
    """The panel's title at a fixed height.

    Placed automatically, matplotlib measures every label of the panel's axes (twins included) at each
    drawing to lift the title above any that reach the top, which none here does (a tenth of the time).
    """
    ax.set_title(text, y=1.0)


def _exposure(ax, steps, series) -> None:
    twin = ax.twinx()
    twin.fill_between(steps, series["exposure"], step="mid", color="0.85", alpha=0.5, zorder=0)
    twin.set_ylabel(axis_label("exposure"), color="0.45")
    twin.set_ylim(0, max(series["exposure"]) * 1.6 if len(series["exposure"]) else 1)
    twin.tick_params(axis="y", colors="0.45")
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)


def draw_figure(rec: MetricsRecorder | Records, path: str | os.PathLike, title: str) -> None:
    """The figure of a run's records, written to `path` (PNG), with the garbage collector paused meanwhile.

    Drawing makes and drops about a hundred thousand objects; the collections they set off took 0.11-0.20 s
    of 0.80-1.00 s (default run, alternated, 2-core Xeon). The figure's cycles are collected afterwards.
    """
    with heap.paused():
        _draw(rec, path, title)


def _draw(rec: MetricsRecorder | Records, path: str | os.PathLike, title: str) -> None:
    steps = np.asarray(rec.steps)
    s = {k: np.asarray(v) for k, v in rec.series.items()}
    # fixed margins: constrained layout would re-measure every label in several extra passes (a third
    # of the drawing time); these fit the longest labels of the panels below at this size
    fig = Figure(figsize=(16, 8.5))
    fig.subplots_adjust(left=0.045, right=0.955, bottom=0.07, top=0.91, wspace=0.42, hspace=0.32)
    axes = fig.subplots(2, 3)
    fig.suptitle(title, fontsize=13)

    ax = axes[0, 0]
    hist = np.asarray(rec.histograms, dtype=float).T
    hist /= np.maximum(hist.sum(axis=0, keepdims=True), 1)
    extent = (steps[0] - 0.5, steps[-1] + 0.5, 0, 1) if len(steps) > 1 else (-0.5, 0.5, 0, 1)
    im = ax.imshow(hist, origin="lower", aspect="auto", extent=extent, cmap="magma_r", interpolation="nearest")
    ax.plot(steps, s["stance_mean"], color="#1b9e77", lw=2, label=_label("stance_mean"))
    _title(ax, "Stance distribution over time")
    ax.set(xlabel=STEP, ylabel=CATALOG["stance_mean"].unit)
    ax.legend(loc="lower left", fontsize=8)
    fig.colorbar(im, ax=ax, label="share of agents", pad=0.01)

    ax = axes[0, 1]
    for m in ("adopter_share", "resister_share"):
        label = _label(m)
        for prof, color in PROFESSION_COLORS.items():
            if prof in rec.by_profession:
                ls = "-" if m == "adopter_share" else "--"
                ax.plot(
                    steps, rec.by_profession[prof][m], color=color, ls=ls, label=f"{label}, {prof.replace('_', ' ')}"
                )
    _title(ax, "Adoption and resistance by profession")
    ax.set(xlabel=STEP, ylabel=SHARE, ylim=(0, 1))
    ax.legend(fontsize=8)

    ax = axes[0, 2]
    for m in ("esteban_ray", "bimodality", "dispersion", "assortativity", "size_parity"):
        ax.plot(steps, s[m], label=_label(m))
    ax.axhline(5 / 9, color="0.6", ls=":", lw=1)  # bimodality above 5/9 suggests two modes
    _title(ax, "Polarization")
    ax.set(xlabel=STEP, ylabel="index (0-1; dispersion 0-0.5; assortativity -1 to 1)")
    ax2 = ax.twinx()
    ax2.step(steps, s["n_major_clusters"], color="k", lw=1, where="mid", label=_label("n_major_clusters"))
    ax2.set_ylabel(axis_label("n_major_clusters"))
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    # two columns where the lines leave room ("best" weighs this panel's own lines; the clusters' step is
    # on the twin axis): one column in the upper left covered the curves as they rise
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=7, loc="best", ncols=2)

    ax = axes[1, 0]
    for m in ("withdrawn_share", "overloaded_share", "marginalized_share", "isolated_share", "dissenter_share"):
        ax.plot(steps, s[m], label=_label(m))
    _title(ax, "Asociality and marginalization")
    ax.set(xlabel=STEP, ylabel=SHARE, ylim=(0, 1))
    ax.legend(fontsize=8, loc="upper left")
    _exposure(ax, steps, s)

    ax = axes[1, 1]
    ax.plot(steps, s["identity_mean"], label=_label("identity_mean"), color="#7570b3", lw=2)
    ax.plot(steps, s["engagement_mean"], label=_label("engagement_mean"), color="#d95f02", lw=2)
    _title(ax, "Resocialization")
    ax.set(xlabel=STEP, ylabel="mean over agents (0-1)", ylim=(0, 1))
    ax2 = ax.twinx()
    # one filled outline per series (a bar per record would be one drawn patch each: slow for long runs)
    width = max(1, (steps[1] - steps[0]) if len(steps) > 1 else 1)
    edges = np.append(steps - width / 2, steps[-1] + width / 2) if len(steps) else np.zeros(1)
    ax2.stairs(
        s["ties_formed"] + s["ties_rewired"],
        edges,
        fill=True,
        color="#66a61e",
        alpha=0.5,
        label="ties formed and rewired",
    )
    ax2.stairs(
        -(s["ties_cut"] + s["ties_excluded"]),
        edges,
        fill=True,
        color="#e7298a",
        alpha=0.5,
        label="ties cut and excluded",
    )
    ax2.set_ylabel("ties formed (+) and cut (-)\n(tie events since the previous record)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")

    ax = axes[1, 2]
    parts = [
        ("ledger_only_positive", "#1a9850"),
        ("ledger_mixed", "#fee08b"),
        ("ledger_only_negative", "#d73027"),
        ("ledger_none", "0.8"),
    ]
    ax.stackplot(steps, *[s[m] for m, _ in parts], labels=[_label(m) for m, _ in parts], colors=[c for _, c in parts])
    # shares of professionals: the review's 39% / 25% are shares of studies, compared by the virtual review
    _title(ax, "Effect ledger")
    ax.set(xlabel=STEP, ylabel=SHARE, ylim=(0, 1))
    ax.legend(fontsize=8, loc="lower left")

    with atomic_path(path) as tmp:
        # the Agg canvas for this figure only; no backend is switched. zlib level 3 instead of PIL's 6: the
        # same pixels, a file about a fifth larger, 35 ms less of a default run's 0.9 s
        fig.savefig(tmp, dpi=110, format="png", pil_kwargs={"compress_level": 3})
