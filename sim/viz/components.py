"""Solara components of the app: the network view, the live plots, the explanations and the controls.

The view components re-render when Mesa's `update_counter` changes (after each step or reset) and
memoize their output on (model, step), so other re-renders cost nothing. The controls edit a
per-session pending Config; Mesa's Reset button builds the next model from it (see `app.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

import reacton.ipywidgets as rw
import solara
from ipywidgets import Layout
from mesa.visualization.utils import update_counter

from sim.config.params import Config
from sim.viz import controls as ctl
from sim.viz.charts import CHARTS
from sim.viz.explain import explanation_html
from sim.viz.figures import draw_network, png
from sim.viz.history import TeachingModel

ROW_PX, MARGIN_PX = 30, 10  # Solara's GridDraggable: rows of 30 px, 10 px between them
# Where each view sits in Mesa's 12-column grid: name -> (x, y, w, h) in grid units.
GRID: dict[str, tuple[int, int, int, int]] = {
    "network": (0, 0, 7, 14),
    "stance": (7, 0, 5, 7),
    "histogram": (7, 7, 5, 7),
    "polarization": (0, 14, 6, 9),
    "withdrawal": (6, 14, 6, 9),
    "ledger": (0, 23, 6, 9),
    "explanations": (6, 23, 6, 9),
}


def cell_px(name: str) -> int:
    """Height in pixels of a view's grid cell (its content is sized to fit)."""
    h = GRID[name][3]
    return h * ROW_PX + (h - 1) * MARGIN_PX


def grid_layout() -> list[dict]:
    """The initial layout of the views (in VIEWS order), for Mesa's draggable grid."""
    return [
        {"i": i, "x": x, "y": y, "w": w, "h": h, "moved": False}
        for i, (x, y, w, h) in enumerate(GRID[name] for name in VIEW_NAMES)
    ]


NETWORK_NOTE = (
    "Colour: stance toward the dominant discourse (blue adopts, red resists). Hollow: withdrawn "
    "from digital exchange. Green: ties made this step. Muted and cut ties are not drawn. "
    "Positions stay fixed; only ties and colours change."
)


@solara.component
def NetworkView(model: TeachingModel):
    update_counter.get()

    def render() -> tuple[bytes, float]:
        t0 = time.perf_counter()
        image = png(draw_network(model))
        return image, (time.perf_counter() - t0) * 1000

    image, ms = solara.use_memo(render, [model, model.steps])
    height = cell_px("network") - 22
    with solara.Column(gap="0px", style={"width": "100%"}, classes=["sim-network"]):
        rw.Image(value=image, format="png", layout=Layout(width="100%", max_height=f"{height}px", object_fit="contain"))
        solara.HTML(tag="div", classes=["sim-network-note"], unsafe_innerHTML=NETWORK_NOTE)
        solara.Text(
            f"network drawn in {ms:.0f} ms", classes=["sim-render-time"], style={"font-size": "11px", "color": "#888"}
        )


def chart_component(name: str) -> Callable:
    make = CHARTS[name]

    @solara.component
    def ChartView(model: TeachingModel):
        update_counter.get()
        option = solara.use_memo(lambda: make(model), [model, model.steps])
        solara.FigureEcharts(
            option=option,
            responsive=True,
            attributes={
                "style": f"height: {cell_px(name) - 8}px; width: 100%;",
                "class": f"sim-chart sim-chart-{name}",
            },
        )

    ChartView.__name__ = f"{name.capitalize()}Chart"
    return ChartView


@solara.component
def Explanations(model: TeachingModel):
    text = solara.use_memo(explanation_html, [])
    solara.HTML(
        tag="div",
        unsafe_innerHTML=text,
        classes=["sim-explain"],
        style=f"height: {cell_px('explanations') - 8}px; overflow-y: auto; font-size: 13px; line-height: 1.4; "
        "padding: 4px 8px;",
    )


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
.sim-network-note { font-size: 12px; color: #555; line-height: 1.35; margin-top: 4px; }
.sim-explain table { border-collapse: collapse; margin: 6px 0; }
.sim-explain td, .sim-explain th { border-top: 1px solid #ddd; padding: 3px 6px; vertical-align: top; }
.sim-explain p { margin: 4px 0 8px 0; }
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
        solara.Text(cfg.scenario.description or "", style={"font-size": "12px", "color": "#666"})
        with solara.Column(gap="0px"):  # always present, so the controls below keep their widgets
            if error:
                solara.Error(error + " (Reset keeps the last valid settings)", dense=True, classes=["sim-error"])
            elif changed:
                solara.Warning(
                    "Settings changed: press Reset to start a run with them.", dense=True, classes=["sim-pending"]
                )
        for title, specs in ctl.sections():
            if title.startswith("Mechanisms"):
                with solara.Details(title, expand=False):
                    for spec in specs:
                        Control(spec, pending)
                continue
            solara.HTML(tag="div", unsafe_innerHTML=title, classes=["sim-section"])
            for spec in specs:
                Control(spec, pending)


VIEW_NAMES = ("network", "stance", "histogram", "polarization", "withdrawal", "ledger", "explanations")
VIEWS: list[tuple[Callable, int]] = [
    (NetworkView if name == "network" else Explanations if name == "explanations" else chart_component(name), 0)
    for name in VIEW_NAMES
]
