"""The model as the app runs it: a `ResocializationModel` that keeps a small history for the live plots.

Each step appends one row of whole-population and per-profession metrics, computed with the
project's own metric functions (`sim.metrics.population.indicators` and `scope_metrics`), plus a
stance histogram. The layout of the network view is computed once, when the model is built.
Nothing here imports Solara.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from sim.config.params import PROFESSIONS, Config
from sim.core.threads import use_threads
from sim.metrics.population import indicators, scope_metrics
from sim.model import ResocializationModel
from sim.step.exposure import level
from sim.viz.layout import group_layout

# The whole population's metrics the plots show, and the ones also kept per profession.
SERIES = (
    "stance_mean",
    "adopter_share",
    "resister_share",
    "withdrawn_share",
    "overloaded_share",
    "marginalized_share",
    "identity_mean",
    "engagement_mean",
    "esteban_ray",
    "bimodality",
    "n_major_clusters",
    "ledger_only_positive",
    "ledger_only_negative",
    "ledger_mixed",
    "ledger_none",
    "exposure",
)
BY_PROFESSION = ("stance_mean", "adopter_share", "resister_share", "withdrawn_share", "overloaded_share")
HIST_BINS = 20


def step_events(report) -> tuple[np.ndarray, np.ndarray]:
    """Tie events of this step as (source, kind code), as the metrics recorder passes them."""
    if report is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int8)
    src, _, kind = report.event_table()
    return src, kind


class History:
    """One row per recorded step (lists of floats), for a model of up to a few thousand agents."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.steps: list[int] = []
        self.series: dict[str, list[float]] = {m: [] for m in SERIES}
        self.by_profession: dict[str, dict[str, list[float]]] = {p: {m: [] for m in BY_PROFESSION} for p in PROFESSIONS}
        self.histogram: np.ndarray = np.zeros(HIST_BINS)
        self.first_histogram: np.ndarray | None = None

    def record(self, model: ResocializationModel) -> None:
        state, report, cfg = model.state, model.last_report, self.cfg
        ind = indicators(state, report, cfg.metrics, cfg.ties.conformity)
        e_t = level(state.t, cfg.exposure)
        events = step_events(report)
        whole = scope_metrics(state, events, ind, "all", cfg.metrics, e_t)
        prof = scope_metrics(state, events, ind, "profession", cfg.metrics, e_t)
        self.steps.append(int(state.t))
        for m in SERIES:
            self.series[m].append(float(whole.values[m][0]))
        for i, name in enumerate(prof.levels):
            for m in BY_PROFESSION:
                self.by_profession[name][m].append(float(prof.values[m][i]))
        self.histogram = np.histogram(state.stance, bins=HIST_BINS, range=(0.0, 1.0))[0].astype(float)
        if self.first_histogram is None:
            self.first_histogram = self.histogram.copy()

    def array(self, metric: str) -> np.ndarray:
        return np.asarray(self.series[metric], dtype=float)

    def __len__(self) -> int:
        return len(self.steps)


def exposure_schedule(cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """E(t) over the whole run (t = 0..steps), so the plots show what is coming."""
    t = np.arange(0, max(cfg.steps, 1) + 1)
    return t, np.array([level(int(s), cfg.exposure) for s in t])


class TeachingModel(ResocializationModel):
    """The model with its history and network layout; stops (running = False) after `cfg.steps` steps.

    `settings` (a callable returning the Config to build) lets the app's Reset button rebuild the
    model from the app's current controls.
    """

    def __init__(self, cfg: Config | None = None, settings: Callable[[], Config] | None = None) -> None:
        if settings is not None:
            cfg = settings()
        super().__init__(cfg, collect=False)  # the app keeps its own history
        self.layout = group_layout(self.state.group, self.cfg.seed)
        self.schedule_t, self.schedule_e = exposure_schedule(self.cfg)
        self.history = History(self.cfg)
        with use_threads(self.threads):
            self.history.record(self)
        self.observers.append(self._after_step)
        self.running = self._more_to_run()

    step_started: float | None = None  # perf_counter() at the start of the last step (the server's timing)

    def step(self) -> None:
        self.step_started = time.perf_counter()
        super().step()

    def _more_to_run(self) -> bool:
        converged = getattr(self.cfg, "stop_at_convergence", False) and getattr(self, "converged", False)
        return self.state.t < self.cfg.steps and not converged

    def _after_step(self, model: ResocializationModel) -> None:
        self.history.record(self)
        self.running = self._more_to_run()
