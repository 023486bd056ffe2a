"""The teaching app: `python -m sim.viz` (or `solara run sim/viz/app.py`) serves `page`.

One Mesa `SolaraViz` per browser session, around a `TeachingModel` (the model plus a small history
and a fixed network layout). Mesa's sidebar gives play / pause / step / reset; below it, the
scenario preset selector and the controls built from the config schema edit a pending Config, and
Reset builds the next model from it (Mesa calls `TeachingModel(settings=...)`). The main area is the
app's own (`MainPanels`: titled panels in a responsive grid), so Mesa gets no components and shows no
page tabs. Each session has its own model: two students on the same server do not share a run.
"""

from __future__ import annotations

import solara
from mesa.visualization import SolaraViz

from sim.config.params import Config
from sim.viz import controls as ctl
from sim.viz import serverstats
from sim.viz.components import ControlsPanel, MainPanels
from sim.viz.history import TeachingModel

TITLE = "Professional resocialization: exposure, overload, resistance"
PLAY_INTERVAL_MS = 150


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
    solara.Title(TITLE)  # the browser tab's title
    # Mesa's app bar and sidebar, and ours, reach the page through Solara's portals; what stays in
    # place is empty placeholders, hidden so that they take no room above the panels.
    with solara.Div(classes=["sim-portals"], style={"display": "none"}):
        SolaraViz(model, components=[], model_params=model_params, name=TITLE, play_interval=PLAY_INTERVAL_MS)
        SidebarControls(pending, model)
    MainPanels(pending, model.value)


@solara.component
def SidebarControls(pending: solara.Reactive[Config], model: solara.Reactive[TeachingModel]):
    # one level deeper than SolaraViz's own sidebar content, so it comes after Mesa's play/step/reset
    _SidebarInner(pending, model)


@solara.component
def _SidebarInner(pending: solara.Reactive[Config], model: solara.Reactive[TeachingModel]):
    with solara.Sidebar():
        ControlsPanel(pending, model)


solara.lab.on_kernel_start(serverstats.on_session_start)  # records sessions when SIM_VIZ_STATS is set

page = Page()
