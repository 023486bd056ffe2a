"""The teaching app: `python -m sim.viz` (or `solara run sim/viz/app.py`) serves `page`.

One Mesa `SolaraViz` per browser session, around a `TeachingModel` (the model plus a small history
and a fixed network layout). Mesa's sidebar gives play / pause / step / reset; below it, the
scenario preset selector and the controls built from the config schema edit a pending Config, and
Reset builds the next model from it (Mesa calls `TeachingModel(settings=...)`). Each session has
its own model: two students on the same server do not share a run.
"""

from __future__ import annotations

import solara
from mesa.visualization import SolaraViz
from mesa.visualization import solara_viz as _mesa_solara_viz

from sim.config.params import Config
from sim.viz import controls as ctl
from sim.viz.components import VIEWS, ControlsPanel, grid_layout
from sim.viz.history import TeachingModel

TITLE = "Professional resocialization: exposure, overload, resistance"
PLAY_INTERVAL_MS = 150


# Mesa 3.5 gives every view the same half-width cell; give the network a tall cell instead. Mesa looks
# this function up when it lays out a page, so replacing it changes only the initial layout (the
# cells stay draggable and resizable); any other number of views keeps Mesa's own layout.
_mesa_default_layout = getattr(_mesa_solara_viz, "make_initial_grid_layout", None)


def _initial_grid_layout(num_components: int) -> list[dict]:
    if num_components == len(VIEWS) or _mesa_default_layout is None:
        return grid_layout()
    return _mesa_default_layout(num_components)


_mesa_solara_viz.make_initial_grid_layout = _initial_grid_layout


def settings_of(pending: solara.Reactive[Config], model: solara.Reactive[TeachingModel]):
    """What Mesa's Reset builds: the pending settings if valid, else the current run's."""

    def settings() -> Config:
        cfg = pending.value
        return cfg if ctl.problem(cfg) is None else model.value.cfg

    return settings


@solara.component
def Page():
    first = solara.use_memo(ctl.initial_config, [])
    pending = solara.use_reactive(first)
    model: solara.Reactive[TeachingModel] = solara.use_reactive(solara.use_memo(lambda: TeachingModel(first), []))
    model_params = solara.use_memo(lambda: {"settings": settings_of(pending, model)}, [])
    SolaraViz(model, components=list(VIEWS), model_params=model_params, name=TITLE, play_interval=PLAY_INTERVAL_MS)
    SidebarControls(pending, model)


@solara.component
def SidebarControls(pending: solara.Reactive[Config], model: solara.Reactive[TeachingModel]):
    # one level deeper than SolaraViz's own sidebar content, so it comes after Mesa's play/step/reset
    _SidebarInner(pending, model)


@solara.component
def _SidebarInner(pending: solara.Reactive[Config], model: solara.Reactive[TeachingModel]):
    with solara.Sidebar():
        ControlsPanel(pending, model)


page = Page()
