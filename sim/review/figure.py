"""review.png: the virtual review's shares of studies beside the review's, and what lies behind them."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from sim.review.observation import CLASSES, PERIODS
from sim.run.io import atomic_path

LABELS = {
    "mixed": "mixed\n(positive and negative)",
    "only_positive": "only positive",
    "other": "other\n(only negative or none)",
    "only_negative": "only negative",
    "none": "none",
}
COLORS = {"mixed": "#7b5ea7", "only_positive": "#3a9e5c", "only_negative": "#c8553d", "none": "#b0b0b0"}
PERIOD_LABELS = {"before": "before the surge", "during": "during the surge", "after": "after the surge"}


def draw_review(summary: dict[str, Any], path: str | Path, title: str = "") -> Path:
    """Draw the figure of a `summarize` result into `path` (atomically); returns the path."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13.5, 6.0))

    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
    classes, review = summary["classes"], summary["review"]
    agents = summary.get("professionals", {}).get("all")
    keys = ["mixed", "only_positive", "other"]
    x = list(range(len(keys)))
    width = 0.36
    for i, key in enumerate(keys):
        c = classes[key]
        ax.bar(i - width / 2, c["share"], width, color="#4c72b0", label="virtual review" if i == 0 else None)
        ax.errorbar(
            i - width / 2,
            c["share"],
            yerr=[[c["share"] - min(c["lo"], c["share"])], [max(c["hi"], c["share"]) - c["share"]]],
            color="black",
            capsize=5,
            lw=1.2,
        )
        ax.bar(i + width / 2, review[key], width, color="#dd8452", label="the review (51 studies)" if i == 0 else None)
        ax.text(i - width / 2, max(c["hi"], c["share"]) + 0.015, f"{c['share']:.0%}", ha="center", fontsize=9)
        ax.text(i + width / 2, review[key] + 0.015, f"{review[key]:.0%}", ha="center", fontsize=9)
        if agents is not None:
            value = agents[key] if key in agents else agents["only_negative"] + agents["none"]
            ax.plot(
                [i - width, i + width],
                [value, value],
                ls=":",
                color="0.25",
                lw=1.6,
                label="simulated professionals (share of agent-periods)" if i == 0 else None,
            )
    ax.set_xticks(x, [LABELS[k] for k in keys])
    ax.set_ylim(0, 1.38)  # room above 100% for the legend
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_ylabel("share of studies")
    ax.set_title("Effects of digital technology reported by studies", fontsize=11)
    ax.legend(fontsize=8.5, loc="upper left")
    ax.grid(axis="y", alpha=0.3)

    # what the studies of each period report, beside what the professionals of that period had
    by_period, prof = summary.get("by_period", {}), summary.get("professionals", {})
    periods = [p for p in PERIODS if p in by_period]
    ticks, names = [], []
    for j, p in enumerate(periods):
        for k, (label, shares) in enumerate((("studies", by_period[p]), ("professionals", prof.get(p)))):
            if shares is None:
                continue
            pos = j * 2.7 + k * 1.05
            bottom = 0.0
            for c in CLASSES:
                bx.bar(
                    pos, shares[c], 0.75, bottom=bottom, color=COLORS[c], label=LABELS[c] if (j, k) == (0, 0) else None
                )
                bottom += shares[c]
            ticks.append(pos)
            names.append(label)
        share = by_period[p]["studies"]
        bx.text(j * 2.7 + 0.525, 1.03, f"{PERIOD_LABELS[p]}\n({share:.0%} of studies)", ha="center", fontsize=9)
    bx.set_xticks(ticks, names, fontsize=8)
    bx.set_ylim(0, 1.15)
    bx.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    bx.set_ylabel("share")
    bx.set_title("By period: studies' findings and professionals' effects", fontsize=11, pad=22)
    handles, labels = bx.get_legend_handles_labels()
    bx.legend(
        handles[::-1],
        [lab.replace("\n", " ") for lab in labels[::-1]],
        fontsize=8,
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
    )

    runs = summary.get("runs")
    scen = ", ".join(summary.get("scenarios", []))
    source = f" drawn from {runs} runs ({scen})" if runs else ""
    caption = (
        f"Bars: mean share over {summary['corpora']} virtual corpora of {summary['studies']} studies{source}. "
        f"Whiskers: 5th-95th percentiles over the repeated virtual corpora, a Monte Carlo interval of the "
        f"observation model, not a confidence interval about the real literature. Right: the classes of the "
        f"virtual studies of each period, and of the simulated professionals (agent-periods) they sampled from."
    )
    fig.suptitle(title or "The virtual review beside the review (Couturier et al.)", fontsize=12)
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(caption, 190)), fontsize=8, va="bottom")
    fig.tight_layout(rect=(0, 0.07, 1, 0.96))
    out = Path(path)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    return out
