"""Solara components of the app: the network view, the live plots, the explanations and the controls.

The views are drawn by the browser from data. They are rendered once per run (and when the run is
marked stale); a step renders nothing: the changes of every view since the last step go to the page in
one message (`sim.viz.controller`, `sim.viz.livechart`). Each is a titled panel of the
main area (`MainPanels`), laid out by CSS grid (not Mesa's draggable grid, whose fixed-height cells let
a wide panel's content spill over the next one). The controls edit a per-session pending Config;
Reset builds the next model from it (see `controller.py`); while the two differ, the panels
are greyed as the previous settings' run and a banner above them says so.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import cast

import numpy as np
import solara

from sim.config.params import Config
from sim.core.threads import use_threads
from sim.viz import controls as ctl
from sim.viz.charts import CHARTS, NETWORK_STYLE, chart_caption, chart_title, hex_color, network_view
from sim.viz.explain import explanation_html
from sim.viz.history import TeachingModel
from sim.viz.layout import stance_colors
from sim.viz.livechart import LiveChart, OptionStream

# The main area: titled panels in a CSS grid whose columns follow the width of the area (a container
# query), so no panel overlaps another or clips its text at any window size. Rows grow with their
# content; the plots' height follows the window's height, so that at 1920x1080 the network and the five
# plots fit on one screen, and at 1366x768 the network and two plots do (the rest one scroll away).
PANEL_TITLES = {
    "network": "The network of professionals",
    "explanations": "What each mechanism does, and the finding of the review it comes from",
}
NETWORK_NOTE = (
    "Muted and cut ties are not drawn. Positions stay fixed; only ties and colours change. "
    "Hover over an agent to read its stance."
)


@solara.component
def Panel(name: str, title: str, stale: bool = False, children: list = []):  # noqa: B006 - solara's idiom
    """A titled card of the main area; a stale one (the run of the previous settings) is greyed and says so."""
    classes = ["sim-panel", f"sim-panel-{name}"] + (["sim-stale"] if stale else [])
    with solara.Div(classes=classes):
        with solara.Div(classes=["sim-panel-head"]):
            solara.HTML(tag="h3", unsafe_innerHTML=html.escape(title), classes=["sim-panel-title"])
            if stale:
                solara.HTML(tag="span", unsafe_innerHTML="previous settings", classes=["sim-stale-badge"])
        solara.Div(classes=["sim-panel-body"], children=children)


def network_caption(model: TeachingModel, counts: dict[str, int]) -> str:
    """The line above the network: step, exposure, who is drawn (HTML)."""
    c = counts
    sample = f", {c['drawn']:,} drawn" if c["drawn"] < c["ties"] else ""
    e_t = model.history.series["exposure"][-1]
    return (
        f"<b>Step {model.state.t}</b> &nbsp; E(t) = {e_t:.2f} &nbsp;&middot;&nbsp; {c['agents']:,} agents in "
        f"{c['groups']} groups, {c['ties']:,} active ties{sample}"
    )


@functools.cache
def _stance_gradient() -> str:
    return ", ".join(hex_color(stance_colors(np.array([x]))[0]) for x in np.linspace(0, 1, 9))


def network_legend(counts: dict[str, int]) -> str:
    """The legend under the network (HTML): shapes, hollow, tie colours with counts, the stance scale."""
    c = counts

    def line(color: str, width: float, text: str) -> str:
        return f'<span class="sim-key"><i style="border-top:{width}px solid {color}"></i>{html.escape(text)}</span>'

    return (
        '<span class="sim-key"><b class="sim-dot"></b>social work</span>'
        '<span class="sim-key"><b class="sim-square"></b>health care</span>'
        f'<span class="sim-key"><b class="sim-dot sim-hollow"></b>withdrawn ({c["withdrawn"]})</span>'
        + line(NETWORK_STYLE["new"], 3, f"new tie this step ({c['new']})")
        + line(NETWORK_STYLE["in_group"], 2, "tie in a group")
        + line(NETWORK_STYLE["between"], 2, "tie between groups")
        + '<span class="sim-key">stance: 0 resisting <span class="sim-scale" '
        f'style="background: linear-gradient(to right, {_stance_gradient()})"></span> 1 dominant discourse</span>'
    )


LIVE_NAMES = ("network", *CHARTS)  # the views drawn by the browser from data


def step_messages(model: TeachingModel, streams: dict[str, OptionStream]) -> dict[str, dict]:
    """For each view: its change since the last step (or whole option) and its caption and legend.

    The views' kernels run on the model's thread count (one at the app's sizes: `sim.core.threads`).
    """
    with use_threads(model.threads):
        return _step_messages(model, streams)


def _step_messages(model: TeachingModel, streams: dict[str, OptionStream]) -> dict[str, dict]:
    option, counts = network_view(model)
    net = streams["network"]
    net.caption, net.legend = network_caption(model, counts), network_legend(counts)
    out = {"network": {**net.update(option), "caption": net.caption, "legend": net.legend}}
    for name, make in CHARTS.items():
        out[name] = streams[name].update(make(model))
        streams[name].caption = chart_caption(name, model)
        if streams[name].caption:
            out[name]["caption"] = streams[name].caption
    return out


@solara.component
def Live(stream: OptionStream, name: str, height: str):
    """A view drawn by the browser: created with the whole option, then fed by the page's `Feed` (`controller`)."""
    LiveChart.element(
        name=name,
        full=stream.current(),
        stream=stream,
        caption=stream.caption,
        legend=stream.legend,
        attributes={"style": f"height: {height}; width: 100%;", "class": f"sim-chart sim-chart-{name}"},
    )


@solara.component
def NetworkView(model: TeachingModel, streams: dict[str, OptionStream], stale: bool = False):
    with Panel("network", PANEL_TITLES["network"], stale):
        Live(streams["network"], "network", "var(--sim-network-h)")
        solara.HTML(tag="div", classes=["sim-network-note"], unsafe_innerHTML=NETWORK_NOTE)


def chart_component(name: str) -> Callable:
    @solara.component
    def ChartView(model: TeachingModel, streams: dict[str, OptionStream], stale: bool = False):
        with Panel(name, chart_title(name), stale):
            Live(streams[name], name, "var(--sim-chart-h)")

    ChartView.__name__ = f"{name.capitalize()}Chart"
    return ChartView


@solara.component
def Explanations(model: TeachingModel, streams: dict[str, OptionStream], stale: bool = False):
    text = solara.use_memo(explanation_html, [])
    with Panel("explanations", PANEL_TITLES["explanations"]):  # the same text for every run: never stale
        solara.HTML(tag="div", unsafe_innerHTML=text, classes=["sim-explain"])


VIEW_NAMES = ("network", "stance", "histogram", "polarization", "withdrawal", "ledger", "explanations")
VIEWS: dict[str, Callable] = {
    name: NetworkView if name == "network" else Explanations if name == "explanations" else chart_component(name)
    for name in VIEW_NAMES
}


@solara.component
def StaleBanner(pending: solara.Reactive[Config], model: TeachingModel):
    """Above the panels, while the settings differ from the run on screen: which, and that Reset applies them."""
    note = ctl.pending_note(pending.value, model.cfg)
    if note is not None:
        solara.HTML(
            tag="div",
            classes=["sim-stale-banner"],
            unsafe_innerHTML=f"<b>The run on screen has the previous settings.</b> {html.escape(note)} "
            "Press <b>Reset</b> (top of the sidebar) to start a run with the new ones.",
        )


@solara.component
def MainPanels(pending: solara.Reactive[Config], model: TeachingModel, streams: dict[str, OptionStream]):
    """The network, the plots and the explanations, each in a titled panel of a responsive grid.

    Rendered for a new run (and when the settings become, or stop being, pending); a step renders
    nothing here: its changes reach the views through the page's `Feed` (`sim.viz.controller`).
    """
    stale = ctl.pending_note(pending.value, model.cfg) is not None
    solara.use_memo(lambda: step_messages(model, streams), [model])  # a new run: its first state, in full
    solara.Style(PANELS_CSS)
    with solara.Div(classes=["sim-main"]):
        StaleBanner(pending, model)
        with solara.Div(classes=["sim-panels"]):
            for name in VIEW_NAMES:
                VIEWS[name](model, streams, stale)


# Panel heights: the title row (about 44 px with padding) comes on top of the body. The plots share
# the window's height in three rows (window minus app bar, paddings and three title rows), within
# 260 and 420 px; the network spans two plot rows.
PANELS_CSS = """
.sim-main { container-type: inline-size; --sim-chart-h: clamp(260px, calc((100vh - 250px) / 3), 420px); }
.sim-panels { display: grid; gap: 12px; align-items: start; grid-template-columns: minmax(0, 1fr);
  grid-template-areas: "network" "stance" "histogram" "polarization" "withdrawal" "ledger" "explanations"; }
@container (min-width: 880px) {
  .sim-panels { grid-template-columns: minmax(0, 8fr) minmax(0, 7fr);
    grid-template-areas: "network stance" "network histogram" "polarization withdrawal" "ledger ledger"
      "explanations explanations"; }
}
@container (min-width: 1380px) {
  .sim-panels { grid-template-columns: repeat(3, minmax(0, 1fr));
    grid-template-areas: "network network stance" "network network histogram" "polarization withdrawal ledger"
      "explanations explanations explanations"; }
}
@container (min-width: 2000px) {
  .sim-panels { grid-template-columns: repeat(4, minmax(0, 1fr));
    grid-template-areas: "network network stance histogram" "network network polarization withdrawal"
      "ledger explanations explanations explanations"; }
}
.sim-panel { background: #fff; border-radius: 6px; padding: 10px 12px 8px 12px; min-width: 0;
  box-shadow: 0 1px 3px rgba(0,0,0,.2), 0 1px 1px rgba(0,0,0,.14); display: flex; flex-direction: column; }
.sim-panel-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 2px 10px; margin-bottom: 6px; }
.sim-panel-title { font-size: 15px; font-weight: 600; line-height: 1.3; margin: 0; color: #222; }
.sim-panel-body { min-width: 0; }
.sim-panel-network { grid-area: network; }
.sim-panel-stance { grid-area: stance; }
.sim-panel-histogram { grid-area: histogram; }
.sim-panel-polarization { grid-area: polarization; }
.sim-panel-withdrawal { grid-area: withdrawal; }
.sim-panel-ledger { grid-area: ledger; }
.sim-panel-explanations { grid-area: explanations; }
.sim-main { --sim-network-h: calc(2 * var(--sim-chart-h) - 60px); }
.sim-chart-caption { font-size: 13px; color: #333; line-height: 1.35; }
.sim-network-legend { font-size: 12px; color: #333; line-height: 1.5; display: flex; flex-wrap: wrap; gap: 2px 14px; }
.sim-key { white-space: nowrap; display: inline-flex; align-items: center; gap: 5px; }
.sim-key i { display: inline-block; width: 18px; height: 0; }
.sim-dot, .sim-square { display: inline-block; width: 9px; height: 9px; background: #a6a6a6; border: 1px solid #333; }
.sim-dot { border-radius: 50%; }
.sim-hollow { background: #fff; border: 2px solid #b2182b; }
.sim-scale { display: inline-block; width: 70px; height: 9px; border: 1px solid #999; }
.sim-network-note { font-size: 12px; color: #555; line-height: 1.35; margin-top: 2px; }
.sim-stale .sim-panel-body { opacity: .35; filter: grayscale(1); }
.sim-stale-badge { font-size: 12px; color: #8a5300; background: #fff3e0; border: 1px solid #f0b060;
  border-radius: 10px; padding: 0 8px; white-space: nowrap; }
.sim-stale-banner { background: #fff3e0; border: 1px solid #f0b060; color: #5d3a00; border-radius: 6px;
  padding: 8px 12px; margin-bottom: 12px; font-size: 14px; line-height: 1.4; }
.sim-explain { font-size: 13px; line-height: 1.4; }
.sim-explain table { border-collapse: collapse; margin: 6px 0; width: 100%; }
.sim-explain td, .sim-explain th { border-top: 1px solid #ddd; padding: 3px 6px; vertical-align: top;
  text-align: left; overflow-wrap: anywhere; }
.sim-explain p { margin: 4px 0 8px 0; }
"""


def _fmt(value) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:.3g}"


def _label(spec: ctl.ControlSpec) -> str:
    shown = spec.unit and spec.kind in ("int", "float") and spec.unit not in spec.label
    return f"{spec.label} ({spec.unit})" if shown else spec.label


# Mesa's "Model Parameters" card stays empty (the controls below replace it): hide an empty card.
CSS = """
.v-card:has(> .v-card__text > .v-sheet:only-child:empty) { display: none; }
.sim-section { font-weight: 600; font-size: 13px; margin: 14px 0 6px 0; color: #444; }
.sim-control-seed, .sim-control-exposure-kind { margin-top: 12px; margin-bottom: 6px; }
.sim-control .v-input__slider .v-input__slot { flex-wrap: wrap; }
.sim-control .v-input__slider .v-input__slot > label.v-label { flex: 0 0 100%; font-size: 13px; margin-bottom: -6px; }
"""


SHOCK_KEYS = ("exposure.height", "exposure.start", "exposure.length", "exposure.persistence")


@solara.component
def Control(spec: ctl.ControlSpec, pending: solara.Reactive[Config]):
    value = ctl.get_value(pending.value, spec.key)
    disabled = spec.key in SHOCK_KEYS and pending.value.exposure.kind != "shock"  # no shock, no shock settings

    def set_value(v) -> None:
        pending.set(ctl.with_values(pending.value, {spec.key: v}))

    label = _label(spec)
    if spec.kind in ("int", "float"):
        label = f"{label}: {_fmt(value)}"
    with solara.Tooltip(f"{spec.key}: {spec.doc}" + (f" [{spec.unit}]" if spec.unit else "")):
        with solara.Div(classes=["sim-control", "sim-control-" + spec.key.replace(".", "-")]):
            if spec.kind == "select":
                solara.Select(
                    label, values=list(cast(tuple[str, ...], spec.choices)), value=value, on_value=set_value, dense=True
                )
            elif spec.kind == "bool":
                solara.Checkbox(label=label, value=bool(value), on_value=set_value)
            elif spec.kind == "seed":
                solara.InputInt(
                    label, value=int(value), on_value=lambda v: set_value(v if v is not None else 0), dense=True
                )
            elif spec.kind == "int":
                lo, hi, step = cast(tuple[float, float, float], (spec.min, spec.max, spec.step))  # set for numbers
                solara.SliderInt(
                    label,
                    value=int(value),
                    on_value=set_value,
                    min=int(lo),
                    max=int(max(hi, value)),
                    step=int(step),
                    thumb_label=False,
                    disabled=disabled,
                )
            else:
                lo, hi, step = cast(tuple[float, float, float], (spec.min, spec.max, spec.step))  # set for numbers
                solara.SliderFloat(
                    label,
                    value=float(value),
                    on_value=set_value,
                    min=float(lo),
                    max=float(max(hi, value)),
                    step=float(step),
                    thumb_label=False,
                    disabled=disabled,
                )


@solara.component
def ControlsPanel(pending: solara.Reactive[Config], model: solara.Reactive[TeachingModel]):
    """Preset selector and the schema-driven controls; shows what Reset will apply."""
    cfg = pending.value
    names = solara.use_memo(ctl.scenario_names, [])
    error = ctl.problem(cfg)
    changed = cfg != model.value.cfg

    def choose(name: str | None) -> None:  # a name: the select cannot be cleared
        pending.set(ctl.apply_preset(pending.value, cast(str, name)))

    solara.Style(CSS)
    with solara.Card("Scenario and parameters", classes=["sim-controls"]):
        solara.Select(
            "Scenario preset",
            values=names,
            value=cfg.scenario.name if cfg.scenario.name in names else None,
            on_value=choose,
            classes=["sim-preset"],
        )
        # right under the preset, so that it is on screen when a preset is chosen
        with solara.Column(gap="0px"):  # always present, so the controls below keep their widgets
            if error:
                solara.Error(error + " (Reset keeps the last valid settings)", dense=True, classes=["sim-error"])
            elif changed:
                solara.Warning(
                    "Settings changed: press Reset to start a run with them.", dense=True, classes=["sim-pending"]
                )
        solara.Text(cfg.scenario.description or "", style={"font-size": "12px", "color": "#666"})
        for title, specs in ctl.sections():
            if title.startswith("Mechanisms"):
                with solara.Details(title, expand=False):
                    for spec in specs:
                        Control(spec, pending)
                continue
            solara.HTML(tag="div", unsafe_innerHTML=title, classes=["sim-section"])
            for spec in specs:
                Control(spec, pending)
