"""The run controls of the sidebar: Reset, play / pause, Step, the play and render intervals, the step counter.

They take the place of Mesa's `ModelController` for one reason, the classroom: there a step re-rendered
the components that read Mesa's update counter and sent a message per changed widget. Here a step
re-renders nothing. It advances the session's model and hands the changes of every view to the page in
one message (`StepPipe.push`, through the page's `Feed` widget); the browser draws them and moves the
step counter (`StepCounter`, which listens to the same message). Only what changes the page's
structure goes through Solara's render: a new run (Reset), play / pause, the end of a run (the buttons
are disabled).

The buttons, sliders and counter look and read as Mesa's do (`Reset`, `▶`, `❚❚`, `Step`; "Play Interval
(ms)", "Render Interval (steps)"; "Time: 3.0"), so Mesa users find them where they expect.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

import solara
import traitlets

from sim.config.params import Config
from sim.viz import serverstats
from sim.viz.components import LIVE_NAMES, step_messages
from sim.viz.history import TeachingModel
from sim.viz.livechart import Feed, OptionStream, _Assets, feed_payload

_runs = itertools.count(1)  # a number per run shown by a page: its counter starts again at a new run


class StepPipe:
    """A session's views (their `OptionStream`s) and the page's `Feed` widget; `push` sends a step.

    The same pipe serves every run of the session: the streams' sequence numbers go on across runs, so
    a page never takes a message of an older run for a newer one.
    """

    def __init__(self) -> None:
        self.streams: dict[str, OptionStream] = {name: OptionStream() for name in LIVE_NAMES}
        self.feed: Feed | None = None  # set once the page's Feed widget exists (`FeedPort`)
        self.lock = threading.Lock()  # a step and a play thread's step never interleave

    def push(self, model: TeachingModel) -> None:
        """Send the model's current step to the page: one message, no render; record the server's time."""
        payload = feed_payload({**step_messages(model, self.streams), "time": float(model.time)})
        if self.feed is not None:
            self.feed.payload = payload
        serverstats.step_done(model)


class StepCounter(_Assets):
    """Mesa's "Time: t" line, moved by the browser from the step messages (no message of its own)."""

    template_file = (__file__, "counter.vue")
    run = traitlets.Int(0).tag(sync=True)
    time = traitlets.Float(0.0).tag(sync=True)


@solara.component
def FeedPort(pipe: StepPipe):
    """The page's `Feed` widget, handed to the pipe once it exists (and taken back when the page goes)."""
    el = Feed.element(payload="")

    def attach() -> Callable[[], None]:
        pipe.feed = solara.get_widget(el)

        def detach() -> None:
            pipe.feed = None

        return detach

    solara.use_effect(attach, [])


def advance(model: TeachingModel, steps: int) -> None:
    """Up to `steps` steps of the model, stopping where the run stops."""
    for _ in range(max(1, steps)):
        if not model.running:
            break
        model.step()


@solara.component
def RunControls(
    model: solara.Reactive[TeachingModel],
    pipe: StepPipe,
    settings: Callable[[], Config],
    play_interval_ms: int = 150,
):
    """Reset, play / pause and Step, Mesa's two interval sliders, and the step counter.

    Reset builds the next run from `settings()` (the app's valid pending settings). Step advances
    `Render Interval` steps and sends one message; play does the same every `Play Interval` ms in a
    thread of the session.
    """
    playing = solara.use_reactive(False)
    running = solara.use_reactive(model.value.running)
    play_interval = solara.use_reactive(play_interval_ms)
    render_interval = solara.use_reactive(1)
    run = solara.use_memo(lambda: next(_runs), [model.value])

    def one_step() -> None:
        with pipe.lock:  # the model of this moment: a Reset in between cannot be overwritten by the old run
            m = model.value
            advance(m, render_interval.value)
            pipe.push(m)
        if running.value != m.running:
            running.set(m.running)  # the end of the run: a render disables play and Step

    def play() -> None:
        while playing.value and model.value.running:
            time.sleep(play_interval.value / 1000)
            if not playing.value:
                break
            one_step()
        if not model.value.running:
            playing.set(False)

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    def reset() -> None:
        playing.set(False)
        with pipe.lock:
            model.set(TeachingModel(settings()))
        running.set(model.value.running)

    with solara.Card("Controls"):
        solara.SliderInt(
            label="Play Interval (ms)", value=play_interval, on_value=play_interval.set, min=1, max=500, step=10
        )
        solara.SliderInt(
            label="Render Interval (steps)", value=render_interval, on_value=render_interval.set, min=1, max=100, step=2
        )
        with solara.Row(justify="space-between"):
            solara.Button(label="Reset", color="primary", on_click=reset)
            solara.Button(
                label="❚❚" if playing.value else "▶",
                color="primary",
                on_click=lambda: playing.set(not playing.value),
                disabled=not running.value,
            )
            solara.Button(label="Step", color="primary", on_click=one_step, disabled=playing.value or not running.value)
    with solara.Card("Information"):
        StepCounter.element(run=run, time=float(model.value.time))
