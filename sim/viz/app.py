"""The teaching app: `python -m sim.viz` (or `solara run sim/viz/app.py`) serves `page`.

One page per browser session, around a `TeachingModel` (the model plus a small history and a fixed
network layout). The sidebar has the run controls (`sim.viz.controller`: Reset, play / pause, Step,
Mesa's play and render intervals and step counter), then the scenario preset selector and the controls
built from the config schema, which edit a pending Config; Reset builds the next model from it. The
main area is the app's own (`MainPanels`: titled panels in a responsive grid). Each session has its own
model: two students on the same server do not share a run.

A step renders nothing on the server: the model advances and one message carries the changes of every
view to the page, which draws them (see `sim.viz.controller`).
"""

from __future__ import annotations

import solara

from sim.config.params import Config
from sim.viz import controls as ctl
from sim.viz import serverstats
from sim.viz.components import ControlsPanel, MainPanels
from sim.viz.controller import FeedPort, RunControls, StepPipe
from sim.viz.history import TeachingModel

TITLE = "Professional resocialization: exposure, overload, resistance"
PLAY_INTERVAL_MS = 150


def settings_of(pending: solara.Reactive[Config], model: solara.Reactive[TeachingModel]):
    """What Reset builds: the pending settings if valid, else the current run's."""

    def settings() -> Config:
        cfg = pending.value
        return cfg if ctl.problem(cfg) is None else model.value.cfg

    return settings


@solara.component
def Page():
    first = solara.use_memo(ctl.initial_config, [])
    pending = solara.use_reactive(first)
    model: solara.Reactive[TeachingModel] = solara.use_reactive(solara.use_memo(lambda: TeachingModel(first), []))
    pipe = solara.use_memo(StepPipe, [])
    settings = solara.use_memo(lambda: settings_of(pending, model), [])
    solara.Title(TITLE)  # the browser tab's title
    # The app bar and the sidebar reach the page through Solara's portals; what stays in place is
    # empty placeholders, hidden so that they take no room above the panels.
    with solara.Div(classes=["sim-portals"], style={"display": "none"}):
        with solara.AppBar():
            solara.AppBarTitle(TITLE)
        with solara.Sidebar():
            with solara.Column():
                RunControls(model, pipe, settings, PLAY_INTERVAL_MS)
                ControlsPanel(pending, model)
    MainPanels(pending, model.value, pipe.streams)
    FeedPort(pipe)


solara.lab.on_kernel_start(serverstats.on_session_start)  # records sessions when SIM_VIZ_STATS is set

page = Page()
