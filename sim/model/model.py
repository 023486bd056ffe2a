"""The Mesa model: owns the config, the seeded generator, the state arrays and the step."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any, cast

import mesa
import numpy as np

from sim import classics
from sim.config.compose import compose, get_value, overrides_from
from sim.config.errors import ConfigError
from sim.config.networkfiles import GRAPH_PATH, from_graph
from sim.config.params import Config, validate
from sim.core.draws import DrawSource
from sim.core.initialize import initial_state
from sim.core.network import read_network
from sim.core.pages import ordinary_pages
from sim.core.report import StepReport
from sim.core.threads import kernel_threads, use_threads
from sim.metrics.population import METRICS
from sim.metrics.tracker import MetricsTracker
from sim.model.agents import Professional
from sim.model.collector import StateDataCollector
from sim.step import STEPS
from sim.step.exposure import forum_reach, level
from sim.step.records import params

AGENT_OBJECTS_UP_TO = 100_000
AGENT_REPORTERS = ("stance", "engagement", "withdrawn", "overloaded", "identity", "group", "profession")
_UNSET: Any = object()


def _metric(model: ResocializationModel, name: str) -> float:
    """A model reporter of the DataCollector: one whole-population metric at the step being collected."""
    return model.metrics[name]


#: With a graph (ResocializationModel(graph=G)) these come from it, as from a file with network=edgelist
FROM_GRAPH = ("n_agents", "n_groups", "network.path", "network.nodes")


def model_config(cfg: Config | None, params: dict[str, Any], seed: Any, graph: Any = None) -> Config:
    """The config of `ResocializationModel(cfg, seed=..., graph=..., **params)`: a Config, or keyword parameters.

    Keyword parameters compose as the command line does (`sim.config.compose.compose`); `seed`
    (Mesa's `seed`/`rng`) is an int, None (a fresh seed from the operating system's entropy, kept in
    `cfg.seed` so the run can be repeated) or a numpy Generator (one integer drawn from it). With a
    `graph`, the network is the graph (network.kind=edgelist, network.path=GRAPH_PATH): its nodes are the
    agents, so n_agents, n_groups (keywords, or a Config's values other than the defaults), a network
    option other than edgelist and a network file are refused.
    """
    if cfg is not None and params:
        raise ConfigError("cfg", type(cfg).__name__, "a Config or keyword parameters, not both")
    if graph is not None:
        given = dict(o.split("=", 1) for o in overrides_from(params))
        kind = given.pop("network", "edgelist")
        if kind != "edgelist":
            raise ConfigError("network", kind, "edgelist or nothing with graph= (the graph is the network)")
        params = {k: v for k, v in params.items() if k != "network"}
        if cfg is not None:  # a Config: the values that differ from its preset's defaults were given
            defaults = Config() if cfg.preset.name == "full" else compose(preset=cfg.preset.name)
            given = {k: get_value(cfg, k) for k in FROM_GRAPH if get_value(cfg, k) != get_value(defaults, k)}
        for key in FROM_GRAPH:
            if key in given:
                value = params.get(key, given[key]) if cfg is None else given[key]
                raise ConfigError(key, value, "no value with graph= (the agents and groups are the graph's nodes)")
    cfg = compose(**params) if params else copy.deepcopy(cfg) if cfg is not None else Config()
    if graph is not None:
        cfg.network.kind, cfg.network.path = "edgelist", GRAPH_PATH
    if seed is not _UNSET:
        cfg.seed = _seed_of(seed)
    return cfg


def _seed_of(seed: Any) -> int:
    if seed is None:
        return int(cast(int, np.random.SeedSequence().entropy) % (2**63))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool) and 0 <= seed < 2**63:
        return int(seed)
    raise ConfigError("seed", seed, "an integer in [0, 2**63), None (a fresh seed) or a numpy Generator")


class ResocializationModel(mesa.Model):
    """Professionals in networked groups under digital exposure (see docs/ODD.md).

    `model.rng` (seeded from `cfg.seed`) is the only source of randomness: the network,
    the traits and every step's draws come from it, in a fixed order.

    Built from a `Config` (`ResocializationModel(cfg)`) or, as Mesa users do, from keyword parameters
    composed exactly as the command line composes them (`ResocializationModel(n_agents=500,
    scenario="pandemic_shock", **{"exposure.height": 3.0})`, see `sim.config.compose.compose`), with
    Mesa's `seed` or `rng`. Mesa's conventions hold: `model.running` turns false after `cfg.steps`
    steps (and, for a classic preset with `stop_at_convergence`, once it has converged), so
    `run_model()` stops; `model.datacollector` is a `mesa.DataCollector` collected at the start and
    after every step, whose model reporters are the whole population's metrics of docs/metrics.md (the
    same computation as `metrics.parquet`, `sim.metrics.tracker`) and whose agent reporters are
    AGENT_REPORTERS; `mesa.batch_run(ResocializationModel, parameters={...})` works. `collect`:
    "auto" collects when the model has agent objects (up to AGENT_OBJECTS_UP_TO agents), True always,
    False never (`datacollector` is then None: `sim.run.runner` records its own metrics).

    `graph`: a networkx graph as the network (`ResocializationModel(graph=G, seed=1)`), read as a network
    file is (`sim.config.networkfiles.from_graph`: node attributes ``group``, ``profession``, ``stance``,
    ``literacy``, ``trust``, ``critical`` where present; `network.groups` for the groups); its nodes are the
    agents, in sorted id order, and `model.labels` holds their ids and the group labels.
    """

    def __init__(
        self,
        cfg: Config | None = None,
        *,
        seed: Any = _UNSET,
        rng: Any = _UNSET,
        collect: bool | str = "auto",
        graph: Any = None,
        **params: Any,
    ) -> None:
        cfg = validate(model_config(cfg, params, seed if seed is not _UNSET else rng, graph))
        super().__init__(rng=cfg.seed)
        self.classic = classics.get(cfg.preset.name)  # a classic preset's rule module; None: the full model
        if self.classic is not None:
            cfg = classics.prepare_config(cfg)
        self.cfg = cfg
        el = (
            from_graph(graph, cfg.network)
            if graph is not None
            else read_network(cfg.network)
            if cfg.network.kind == "edgelist"
            else None
        )
        #: threads of the compiled kernels in this model's steps (`sim.core.threads`: one for small runs)
        self.threads = kernel_threads(el.n_nodes if el is not None else cfg.n_agents)
        with use_threads(self.threads):
            self.state = initial_state(cfg, self.rng, el)
            if self.classic is not None:
                classics.prepare_state(self.state, cfg)
        # the user's node and group ids (outputs only: they never enter the dynamics); None if generated.
        # Groups the network does not give (network.groups=one or louvain) are labelled by their ids.
        self.labels = (
            None
            if el is None
            else (
                el.node_labels,
                el.group_labels if el.group_labels is not None else np.arange(self.state.n_groups, dtype=np.int64),
            )
        )
        self._before: np.ndarray | None = None  # stances before the last classic step
        self._converged: bool | None = None
        self.content_rng = self.rng.spawn(1)[0]  # the forum content stream (see sim.core.draws)
        with ordinary_pages():  # the draws are read front to back (sim.core.pages)
            self.draws = DrawSource(self.rng, self.state.n_agents, self.content_rng) if self.classic is None else None
        self.last_report: StepReport | None = None
        self.observers: list[Callable[[ResocializationModel], None]] = []
        self._step = (
            STEPS[cfg.implementation]
            if self.classic is None
            else classics.step_function(cfg.preset.name, cfg.implementation)
        )
        n = self.state.n_agents
        agents = cfg.mesa_agents == "always" or (cfg.mesa_agents == "auto" and n <= AGENT_OBJECTS_UP_TO)
        if agents:
            for row in range(n):
                Professional(self, row)
        if collect not in (True, False, "auto"):
            raise ConfigError("collect", collect, 'True, False or "auto"')
        self.datacollector: mesa.DataCollector | None = None
        self._tracker: MetricsTracker | None = None
        self._metrics: tuple[int, dict[str, float]] | None = None
        if collect is True or (collect == "auto" and agents):
            self._tracker = MetricsTracker(cfg)
            reporters = {m: functools.partial(_metric, name=m) for m in METRICS}
            self.datacollector = (
                StateDataCollector(reporters, AGENT_REPORTERS) if agents else mesa.DataCollector(reporters)
            )
            self.datacollector.collect(self)

    @property
    def metrics(self) -> dict[str, float]:
        """The whole population's metrics now (docs/metrics.md), measured once per step (needs `collect`).

        Tie-event counts cover the steps since the previous measurement, as in `metrics.parquet`.
        """
        if self._tracker is None:
            raise AttributeError("metrics are measured only when the model collects data (collect=True)")
        if self._metrics is None or self._metrics[0] != self.state.t:
            with use_threads(self.threads):
                (values,) = self._tracker.measure(
                    self.state, self.last_report, ["all"], level(self.state.t, self.cfg.exposure)
                )
            self._metrics = (self.state.t, {m: float(v[0]) for m, v in values.values.items()})
        return self._metrics[1]

    @property
    def exposure(self) -> float:
        """E(t) of the step about to run."""
        return level(self.state.t + 1, self.cfg.exposure)

    def step(self) -> None:
        with use_threads(self.threads), ordinary_pages():  # huge pages only where they pay: sim.core.pages
            self._step_once()

    def _step_once(self) -> None:
        if self.classic is not None:
            self._step_classic()
        else:
            # the config may change between steps (the app); with attention on, reach depends on engagement
            source = cast(DrawSource, self.draws)  # full model: set
            reach = forum_reach(self.exposure, params(self.cfg), self.state.engagement, source.reach_buffer())
            draws = source.draw(self.cfg.messages, reach)
            self.last_report = self._step(self.state, self.cfg, draws)
        if self._tracker is not None and self.datacollector is not None:
            self._tracker.observe(self.state, cast(StepReport, self.last_report))
            self.datacollector.collect(self)
        if self.state.t >= self.cfg.steps or (
            self.classic is not None and self.cfg.stop_at_convergence and self.converged
        ):
            self.running = False
        for observe in self.observers:
            observe(self)

    def _step_classic(self) -> None:
        """One step of a classic preset: its draws, its rule, then whether it can still change."""
        before = self.state.stance.copy()
        draws = cast(ModuleType, self.classic).draw(self.rng, self.state, self.cfg)
        self.last_report = self._step(self.state, self.cfg, draws)
        self._before, self._converged = before, None

    @property
    def converged(self) -> bool:
        """Whether a classic preset can no longer change (rules in docs/classics.md).

        Checked when asked, after the last step: the check is a pass over every tie, as long as the
        step itself for Deffuant on a sparse network, so runs that never ask do not pay it.
        """
        if self._before is None:
            return False
        if self._converged is None:
            self._converged = bool(cast(ModuleType, self.classic).converged(self.state, self.cfg, self._before))
        return self._converged
