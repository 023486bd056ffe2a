"""Typed, validated parameters: the one source of truth for names, defaults, ranges and units.

The dataclasses below are registered as Hydra's structured config schema (so unknown keys and
wrong types are refused by OmegaConf) and carry each field's allowed range in its metadata (so
one generic validator names the key, the value and what is allowed, and the teaching app can
build its sliders from the same table). One step is read as one working day.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.config.errors import ConfigError, Typed

PROFESSIONS = ("social_work", "health_care")
#: Agents are numbered in 32-bit integers (the tie store's neighbour slots, the group order): beyond this
#: they would wrap around. The memory check of the command line (sim.config.preflight) refuses far fewer.
MAX_AGENTS = 2**31 - 1
#: A sane upper bound on a run's length: 10 million working days (about 40,000 years), 50 times the longest
#: run the classics' published results need (Holme-Newman, 200,000 steps); the outputs' step columns are
#: 32-bit, and the series kept in memory for the figure grow with steps / metrics.every.
MAX_STEPS = 10_000_000
#: Above this a complete network needs more memory than the model is worth (N^2/2 ties: 2 x 10^8 at the bound).
MAX_COMPLETE_AGENTS = 20_000
#: The classic presets whose Erdos-Renyi network is set by preset.k (on network.kind=sbm)
ER_PRESETS = ("kozma_barrat", "holme_newman")


def nullable(kind: Any) -> tuple[Any, bool]:
    """A field's type without its `| None`, and whether it had one (`float | None` -> (float, True))."""
    args = typing.get_args(kind)
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0], len(rest) < len(args)
    return kind, False


def p(
    default: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    unit: str = "",
    doc: str = "",
    choices: tuple[str, ...] | None = None,
    lo_open: bool = False,
) -> Any:
    """A parameter with its allowed range, unit and a one-line meaning (used by docs and the app)."""
    meta = {"lo": lo, "hi": hi, "unit": unit, "doc": doc, "choices": choices, "lo_open": lo_open}
    return field(default=default, metadata=meta)


def sub(cls: type) -> Any:
    return field(default_factory=cls)


@dataclass
class NetworkConfig:
    kind: str = p("sbm", choices=("sbm", "complete", "small_world", "edgelist"), doc="how ties are laid out")
    mean_degree: float = p(
        11.7,
        0.0,
        None,
        lo_open=True,
        unit="ties per agent",
        doc="expected ties per agent: sets p_in and p_out when they are null (SBM), k when it is null (small world)",
    )
    in_group_share: float = p(
        0.846154,
        0.0,
        1.0,
        unit="share of ties",
        doc="expected share of an agent's ties inside its group: sets p_in and p_out when they are null (SBM)",
    )
    p_in: float | None = p(
        None, 0.0, 1.0, unit="probability", doc="tie probability inside a group (SBM; null: from mean_degree)"
    )
    p_out: float | None = p(
        None, 0.0, 1.0, unit="probability", doc="tie probability between groups (SBM; null: from mean_degree)"
    )
    k: int | None = p(
        None, 2, None, unit="ties", doc="lattice degree of the small world (even; null: mean_degree rounded to even)"
    )
    beta: float = p(0.1, 0.0, 1.0, unit="probability", doc="small-world rewiring probability")
    path: str = p(
        "",
        doc="network file, format by extension: .csv/.tsv, .edgelist/.txt, .graphml, .gexf, .gml, .net (kind=edgelist)",
    )
    nodes: str = p("", doc="node table (.csv/.tsv: id, group, profession, stance, traits) for an edge table (edgelist)")
    groups: str = p(
        "auto",
        choices=("auto", "attribute", "one", "louvain"),
        doc="groups of a network file: its group attribute (auto: if any node has one, else one group), "
        "one group, or Louvain communities",
    )
    group_attribute: str = p("group", doc="the node attribute (or node-table column) that holds the group (edgelist)")
    slack: float = p(
        0.25,
        0.0,
        10.0,
        unit="share of degree",
        doc="spare tie slots per agent (storage only: memory and speed, never results)",
    )


@dataclass
class ExposureConfig:
    kind: str = p("constant", choices=("constant", "shock"), doc="exposure schedule E(t)")
    baseline: float = p(1.0, 0.0, 100.0, unit="x pre-pandemic", doc="E(t) before the shock")
    start: int = p(50, 0, None, unit="steps", doc="first step of the shock")
    length: int = p(60, 0, None, unit="steps", doc="duration of the shock")
    height: float = p(2.0, 0.0, 100.0, unit="x pre-pandemic", doc="extra exposure during the shock")
    persistence: float = p(0.3, 0.0, 1.0, unit="share of height", doc="excess kept after the shock")
    relaxation: float = p(0.0, 0.0, None, unit="steps", doc="e-folding time of the kept excess (0 = it stays)")


@dataclass
class TraitDist:
    """A Beta distribution by mean and concentration (a + b), so a trait stays in [0, 1]."""

    mean: float = p(0.5, 0.0, 1.0, lo_open=True, doc="mean of the Beta distribution")
    concentration: float = p(8.0, 0.0, 1e6, lo_open=True, doc="a + b of the Beta distribution")


def _trait(mean: float, conc: float = 8.0) -> Any:
    return field(default_factory=lambda: TraitDist(mean, conc))


@dataclass
class SocialWorkConfig:
    literacy: TraitDist = _trait(0.45)
    trust: TraitDist = _trait(0.45)
    critical: TraitDist = _trait(0.70)


@dataclass
class HealthCareConfig:
    literacy: TraitDist = _trait(0.60)
    trust: TraitDist = _trait(0.60)
    critical: TraitDist = _trait(0.50)


@dataclass
class ProfessionsConfig:
    heterogeneous: bool = p(True, doc="false: both professions draw from the social-work distributions")
    share_social_work: float = p(0.5, 0.0, 1.0, unit="share", doc="share of social workers")
    segregation: float = p(
        0.5, 0.0, 1.0, unit="probability", doc="chance an agent takes its group's profession (else drawn by share)"
    )
    social_work: SocialWorkConfig = sub(SocialWorkConfig)
    health_care: HealthCareConfig = sub(HealthCareConfig)


@dataclass
class StanceConfig:
    initial_mean: float = p(0.6, 0.0, 1.0, lo_open=True, doc="mean initial stance (1 = dominant discourse)")
    initial_concentration: float = p(4.0, 0.0, 1e6, lo_open=True, doc="a + b of the initial Beta")
    dominant: float = p(1.0, 0.0, 1.0, doc="stance of the broadcast (dominant) discourse")


@dataclass
class MessagesConfig:
    peer: bool = p(True, doc="messages along ties")
    peer_rate: float = p(0.3, 0.0, 100.0, unit="messages/tie/step", doc="peer messages at E=1, engagement 1")
    broadcast: bool = p(True, doc="broadcast of the dominant discourse")
    broadcast_rate: float = p(2.0, 0.0, 1000.0, unit="messages/step", doc="broadcast messages at E=1")
    forum: bool = p(True, doc="general-forum channel")
    forum_rate: float = p(2.0, 0.0, 1000.0, unit="messages/step", doc="forum messages at E=1, porosity 1")
    porosity: float = p(0.2, 0.0, 1.0, unit="share", doc="how much general-forum content reaches professionals")
    forum_mean: float = p(0.4, 0.0, 1.0, lo_open=True, doc="mean stance of general-forum content")
    forum_concentration: float = p(2.0, 0.0, 1e6, lo_open=True, doc="a + b of forum content's Beta")
    cap: float = p(
        0.0,
        0.0,
        1000.0,
        unit="messages/step",
        doc="cap on the messages reaching an agent, all channels scaled down alike (0: no cap)",
    )


@dataclass
class AttentionConfig:
    enabled: bool = p(True, doc="finite attention, overload and withdrawal")
    capacity: float = p(
        3.4,
        0.01,  # load is intake / capacity: a capacity near 0 overflows to inf (issue 19)
        None,
        unit="messages/step",
        doc="attention capacity at literacy 0.5 and identity clarity 0",
    )
    literacy_effect: float = p(1.0, 0.0, 2.0, doc="how much literacy raises capacity and benefit")
    identity_buffer: float = p(0.5, 0.0, 10.0, doc="extra capacity per unit of identity clarity")
    withdrawal_rate: float = p(0.35, 0.0, 1.0, unit="share/step", doc="share of engagement lost per step of overload")
    recovery_rate: float = p(0.05, 0.0, 1.0, unit="1/step", doc="pull of engagement back to tech trust")
    withdrawn_below: float = p(0.2, 0.0, 1.0, unit="engagement", doc="engagement under which an agent is withdrawn")
    trust_dynamics: bool = p(
        True, doc="tech trust evolves: good exchanges raise it, overload and broadcasts not accepted lower it"
    )
    trust_rate: float = p(
        0.02, 0.0, 1.0, unit="share/step", doc="share of the way trust moves toward 1 (good step) or 0 (bad step)"
    )


@dataclass
class InfluenceConfig:
    enabled: bool = p(True, doc="social-judgment influence")
    acceptance: float = p(0.3, 0.0, 1.0, unit="stance", doc="latitude of acceptance U")
    rejection: float = p(0.7, 0.0, 1.0, unit="stance", doc="latitude of rejection T (contrast beyond)")
    rate: float = p(0.2, 0.0, 1.0, unit="share", doc="convergence rate mu")
    contrast: bool = p(True, doc="move away from content beyond T")
    critical_narrowing: float = p(0.53, 0.0, 1.0, doc="how much critical thinking narrows U for the broadcast")
    mistrust: float = p(
        0.35,
        0.0,
        1.0,
        doc="how much critical mistrust brings the broadcast's rejection closer, T_b = T (1 - m critical (1 - trust))",
    )
    identity_stability: float = p(1.0, 0.0, 100.0, doc="how much identity clarity damps stance change")
    hardening: float = p(
        0.52,
        0.0,
        1.0,
        doc="how much losing in-group ties narrows the latitude of acceptance (rejection-identification)",
    )


@dataclass
class TiesConfig:
    muting: bool = p(True, doc="mute senders that keep sending rejected content")
    mute_after: int = p(3, 1, 255, unit="rejections", doc="rejections from one sender before muting")
    exclusion: bool = p(True, doc="groups cut in-group ties of dissenters")
    conformity: float = p(0.3, 0.0, 1.0, unit="stance", doc="distance from the group norm that makes a dissenter")
    exclusion_rate: float = p(
        0.16, 0.0, 1.0, unit="probability/step", doc="chance a fully asocial dissenter loses an in-group tie"
    )
    asocial_exclusion: bool = p(
        True,
        doc="asociality (low engagement, muting) makes a dissenter's exclusion likelier (false: base rate for all)",
    )
    exclusion_base: float = p(
        0.005, 0.0, 1.0, unit="share of exclusion_rate", doc="the exclusion chance of a fully engaged dissenter"
    )
    rewiring: bool = p(True, doc="dissenters rewire toward like-minded agents elsewhere")
    rewire_rate: float = p(
        0.5, 0.0, 1.0, unit="probability/step", doc="chance a fully marginalized dissenter tries to rewire"
    )
    homophily: float = p(
        0.15,
        0.0,
        1.0,
        unit="stance",
        doc="stance distance under which a new tie is accepted (beyond it a tie may be dropped)",
    )
    formation: bool = p(True, doc="engaged agents with accepted exchanges form new ties")
    formation_rate: float = p(0.02, 0.0, 1.0, unit="probability/step", doc="chance of proposing a new tie")
    formation_in_group: float = p(0.8, 0.0, 1.0, unit="probability", doc="chance the proposal stays in the group")


@dataclass
class IdentityConfig:
    enabled: bool = p(True, doc="identity clarity grows with accepted exchanges")
    initial: float = p(0.3, 0.0, 1.0, doc="initial identity clarity")
    gain: float = p(0.05, 0.0, 1.0, unit="share/step", doc="clarity gained per step with an accepted exchange")
    decay: float = p(0.005, 0.0, 1.0, unit="share/step", doc="clarity lost per step")


@dataclass
class MetricsConfig:
    every: int = p(1, 1, None, unit="steps", doc="record metrics every k steps (and at the last)")
    by_group: bool = p(True, doc="also record every metric per group")
    by_profession: bool = p(True, doc="also record every metric per profession")
    adopter_above: float = p(2 / 3, 0.0, 1.0, unit="stance", doc="stance above which an agent adopts")
    resister_below: float = p(1 / 3, 0.0, 1.0, unit="stance", doc="stance below which an agent resists")
    cluster_gap: float = p(0.05, 0.0, 1.0, lo_open=True, unit="stance", doc="gap that separates opinion clusters")
    minor_share: float = p(0.05, 0.0, 1.0, unit="share", doc="clusters smaller than this are minor")
    marginalized_loss: float = p(
        0.5, 0.0, 1.0, unit="share", doc="share of initial in-group ties a marginalized dissenter has lost"
    )
    ledger_window: int = p(
        0,
        0,
        None,
        unit="steps",
        doc="the ledger counts effects of the last k steps, as a study observes a window (0: the whole run)",
    )


@dataclass
class OutputConfig:
    snapshot_every: int = p(50, 0, None, unit="steps", doc="agent snapshots every k steps (0: last step only)")
    snapshot_sample: float = p(1.0, 0.0, 1.0, lo_open=True, unit="share", doc="share of agents in snapshots")
    events: bool = p(True, doc="write tie events")
    figure: bool = p(True, doc="write figure.png")
    progress: str = p("auto", choices=("auto", "on", "off"), doc="progress bar (auto: only on a terminal)")


@dataclass
class ScenarioConfig:
    name: str = "baseline"
    description: str = ""


PRESETS = ("full", "deffuant", "hegselmann_krause", "jager_amblard", "kozma_barrat", "holme_newman")


@dataclass
class PresetConfig:
    """The model variant. The classic presets take the papers' own parameter names (docs/classics.md)."""

    name: str = p("full", choices=PRESETS, doc="the model variant: full model or a classic special case")
    d: float = p(
        0.3,
        0.0,
        1.0,
        unit="stance",
        doc="Deffuant / Kozma-Barrat confidence threshold: linked pairs closer than d (strictly) converge",
    )
    mu: float = p(
        0.5,
        0.0,
        1.0,
        unit="share",
        doc="Deffuant / Kozma-Barrat / Jager-Amblard convergence rate: share of the gap moved",
    )
    epsilon: float = p(
        0.2, 0.0, 1.0, unit="stance", doc="Hegselmann-Krause confidence bound: average over opinions within <= epsilon"
    )
    U: float = p(
        0.4,
        0.0,
        2.0,
        unit="opinion on [-1, 1]",
        doc="Jager-Amblard latitude of acceptance: assimilate when |a_i - a_j| < U",
    )
    T: float = p(
        0.6,
        0.0,
        2.0,
        unit="opinion on [-1, 1]",
        doc="Jager-Amblard latitude of rejection: contrast when |a_i - a_j| > T (T >= U)",
    )
    two_way: bool = p(False, doc="Jager-Amblard: both agents of a meeting move (false: only the chosen one, j on i)")
    w: float = p(
        0.5,
        0.0,
        1.0,
        unit="probability",
        doc="Kozma-Barrat rewiring probability of an update (a disagreeing tie moves to a random agent)",
    )
    phi: float = p(
        0.458,
        0.0,
        1.0,
        unit="probability",
        doc="Holme-Newman probability that an update rewires a tie to a same-opinion agent",
    )
    gamma: float = p(
        10.0, 1.0, None, unit="agents per opinion", doc="Holme-Newman N / G: G = round(N / gamma) discrete opinions"
    )
    k: float = p(
        0.0,
        0.0,
        None,
        unit="ties",
        doc="Kozma-Barrat / Holme-Newman mean degree of the Erdos-Renyi network (0: network as configured)",
    )


DOCKINGS = ("none", "deffuant", "hegselmann_krause", "jager_amblard")


@dataclass
class DockingConfig:
    """The full model set up to dock to a classic (docs/classics.md, "Docking"), with the classic's names.

    `docking=NAME` (conf/docking/NAME.yaml) switches the full model's other mechanisms off and maps these
    keys onto the full model's own (`influence.acceptance: ${docking.d}`, ...), so the composed config
    shows the values the model uses. The step stays the full model's; only preset=full docks.
    """

    name: str = p("none", choices=DOCKINGS, doc="the classic the full model is docked to (none: no docking)")
    d: float = p(
        0.3,
        0.0,
        1.0,
        unit="stance",
        doc="Deffuant confidence threshold, mapped to influence.acceptance (assimilate when |y - x| < d)",
    )
    mu: float = p(
        0.5,
        0.0,
        1.0,
        unit="share",
        doc="Deffuant / Jager-Amblard convergence rate, mapped to influence.rate",
    )
    epsilon: float = p(
        0.2,
        0.0,
        1.0,
        unit="stance",
        doc="Hegselmann-Krause confidence bound, mapped to influence.acceptance (one message at a time)",
    )
    U: float = p(
        0.4,
        0.0,
        2.0,
        unit="opinion on [-1, 1]",
        doc="Jager-Amblard latitude of acceptance, mapped to influence.acceptance = U / 2 (stance scale)",
    )
    T: float = p(
        0.6,
        0.0,
        2.0,
        unit="opinion on [-1, 1]",
        doc="Jager-Amblard latitude of rejection (T >= U), mapped to influence.rejection = T / 2 (stance scale)",
    )


@dataclass
class Config:
    """Everything a run depends on; the resolved YAML becomes one of these."""

    n_agents: int = p(1000, 2, None, unit="agents", doc="number of professionals")
    n_groups: int = p(10, 1, None, unit="groups", doc="number of groups (teams, services)")
    steps: int = p(200, 0, None, unit="steps", doc="steps to run (one step = one working day)")
    seed: int = p(0, 0, 2**63 - 1, doc="seed of the model's numpy Generator")
    implementation: str = p(
        "compiled",
        choices=("compiled", "reference"),
        doc="which form of the step runs (compiled or per-agent: same results)",
    )
    mesa_agents: str = p(
        "auto", choices=("auto", "always", "never"), doc="create Mesa agent objects (auto: up to 100,000 agents)"
    )
    stop_at_convergence: bool = p(
        False, doc="stop before `steps` once a classic preset can no longer change (rules in docs/classics.md)"
    )
    network: NetworkConfig = sub(NetworkConfig)
    exposure: ExposureConfig = sub(ExposureConfig)
    professions: ProfessionsConfig = sub(ProfessionsConfig)
    stance: StanceConfig = sub(StanceConfig)
    messages: MessagesConfig = sub(MessagesConfig)
    attention: AttentionConfig = sub(AttentionConfig)
    influence: InfluenceConfig = sub(InfluenceConfig)
    ties: TiesConfig = sub(TiesConfig)
    identity: IdentityConfig = sub(IdentityConfig)
    metrics: MetricsConfig = sub(MetricsConfig)
    output: OutputConfig = sub(OutputConfig)
    scenario: ScenarioConfig = sub(ScenarioConfig)
    preset: PresetConfig = sub(PresetConfig)
    docking: DockingConfig = sub(DockingConfig)


# The switches that turn one mechanism off each (boolean keys), in the order the app lists them; the
# equivalence test flips them at random and conf/ablation/ has a variant for each.
SWITCHES = (
    "messages.peer",
    "messages.broadcast",
    "messages.forum",
    "attention.enabled",
    "attention.trust_dynamics",
    "influence.enabled",
    "influence.contrast",
    "ties.muting",
    "ties.exclusion",
    "ties.asocial_exclusion",
    "ties.rewiring",
    "ties.formation",
    "identity.enabled",
    "professions.heterogeneous",
)


def _range_text(meta: Mapping[str, Any]) -> str:
    lo, hi = meta["lo"], meta["hi"]
    left = "(" if meta["lo_open"] else "["
    if lo is None:
        return f"<= {hi}"
    if hi is None:
        return f"{'>' if meta['lo_open'] else '>='} {lo}"
    return f"{left}{lo}, {hi}]"


def allowed_values(kind: Any, meta: Mapping[str, Any]) -> str:
    """What a field of this type and metadata accepts, in words: 'an integer >= 2', 'a finite number in [0.0, 1.0]'."""
    if kind is bool:
        return "true or false"
    if meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    if kind is int or kind is float:
        what = "an integer" if kind is int else "a finite number"
        if meta.get("lo") is None and meta.get("hi") is None:
            return what
        bounded = meta.get("lo") is not None and meta.get("hi") is not None
        return f"{what} {'in ' if bounded else ''}{_range_text(meta)}"
    return "text"


_TYPES: dict[type, dict[str, Any]] = {}


def _types(cls: type) -> dict[str, Any]:
    """The declared types of a section's fields (the annotations are strings: `from __future__ import annotations`)."""
    if cls not in _TYPES:
        _TYPES[cls] = typing.get_type_hints(cls)
    return _TYPES[cls]


def _has_type(value: Any, kind: Any) -> bool:
    """Whether `value` is of a leaf's declared type: bool, int, float or str, as the model reads them.

    A bool is not an int (nor a float), and an int is a float's value (a finite one: 10**400 is none). Only
    Python's own types pass, as the command line gives them: a numpy integer or a numpy float32 does not
    (Mesa seeds Python's `random.Random` with `seed`, which refuses a numpy integer).
    """
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        try:
            float(value)  # an int too large for a float
        except OverflowError:
            return False
        return True
    if kind is str:
        return isinstance(value, str)
    return True  # no other leaf type in the schema


def _check_fields(obj: Any, prefix: str) -> None:
    """Every field of `obj` (a Config or one of its sections), recursively: its declared type, then its range.

    A config from Hydra has its types already (OmegaConf converts or refuses them); a Config built by hand
    may hold anything, so each value is checked against its field's declared type (`_has_type`): a section
    must be an instance of its section's class, a leaf a bool, int, float or str as declared, None only where
    the type allows it (`float | None`).
    """
    hints = _types(type(obj))
    for f in dataclasses.fields(obj):
        key = f"{prefix}{f.name}"
        value = getattr(obj, f.name)
        kind, optional = nullable(hints[f.name])
        meta = f.metadata
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            if isinstance(value, kind):
                _check_fields(value, key + ".")
                continue
            if dataclasses.is_dataclass(value):  # another section's class, e.g. Config(network=ExposureConfig())
                raise ConfigError(key, Typed(f"{type(value).__name__}(...)"), f"a {kind.__name__}")
            # a section given as a bare value, e.g. Config(scenario="pandemic_shock"), or as a dict
            raise ConfigError(
                key,
                value,
                f"a {key} section; to choose a config group's option, compose it as the command line does: "
                f"sim.compose({key}={value!r}) or ResocializationModel({key}={value!r})",
            )
        check_leaf(key, value, kind, optional, meta)


def check_leaf(key: str, value: Any, kind: Any, optional: bool, meta: Mapping[str, Any]) -> None:
    """One leaf of a config (`key`, its value, its declared type, whether it may be null, its range or choices).

    What `_check_fields` checks for every leaf; the command line's checks of a sweep call it for each swept
    value of a key (the rest of the config is checked once).
    """
    if value is None and optional:  # a null where the key allows one
        return
    if not _has_type(value, kind):
        allowed = allowed_values(kind, meta) + (" or null" if optional else "")
        if type(value).__module__ == "numpy":  # a numpy scalar fails later (Mesa seeds Python's random with it)
            allowed += f" (a Python {kind.__name__}: convert numpy's with {kind.__name__}())"
        raise ConfigError(key, value, allowed)
    if not meta:
        return
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(key, value, "one of " + ", ".join(meta["choices"]))
    lo, hi = meta.get("lo"), meta.get("hi")
    if isinstance(value, float) and not math.isfinite(value):  # inf, nan (1e400 on the command line is inf)
        raise ConfigError(key, value, allowed_values(float, meta))
    if isinstance(value, bool) or (lo is None and hi is None):
        return
    bad = False
    if lo is not None:
        bad = value <= lo if meta["lo_open"] else value < lo
    if hi is not None:
        bad = bad or value > hi
    if bad:
        raise ConfigError(key, value, _range_text(meta))


#: The config groups whose option sets keys outside its own section (conf/scenario, conf/preset,
#: conf/docking: `preset=deffuant` also sets the network, n_groups, the stances and the switches): the
#: section's name alone does not make the option.
GROUP_SECTIONS = ("scenario", "preset", "docking")
#: The attribute composition leaves on a section (`mark_composed`); not a field, so not a value of the config
_COMPOSED = "_composed"


def mark_composed(cfg: Config) -> Config:
    """Mark `cfg` (in place) as composed from conf/ as the command line composes it; `validate` trusts the mark.

    Each section of GROUP_SECTIONS records the option it was composed with (its name), and the network
    section the sizes composed with it (n_agents, n_groups). `sim.config.compose` marks every Config it
    composes (`config_of`: `compose` and its core, the command line, the preflight); a section built
    by hand (`ScenarioConfig(name="pandemic_shock")`) has no mark, so `validate` refuses a group option
    given that way instead of running it without what the option sets (`_check_composed`).

    A mark, not a comparison with the values the option composes: the command line may override any key an
    option sets (`scenario=pandemic_shock exposure.kind=constant`), and code changes composed configs
    further (sweeps, sensitivity samples, the calibration, the app's controls), so a config that differs
    from its option's values is still a composed one; and the section's own values say nothing
    (`PresetConfig(name="deffuant")` holds Deffuant's d and mu, yet neither its complete network nor its
    switches). The mark is an attribute of the section objects, not a field: equality, the YAML a run
    writes and its fingerprint ignore it; it follows a section through `copy.deepcopy`, pickling (sweep
    workers) and `dataclasses.replace` of the Config (which keeps the section objects), and it is lost
    when the section is replaced or rebuilt by hand, which is what it is meant to detect.
    """
    for group in GROUP_SECTIONS:
        section = getattr(cfg, group)
        setattr(section, _COMPOSED, section.name)
    setattr(cfg.network, _COMPOSED, (cfg.n_agents, cfg.n_groups))
    return cfg


def _check_composed(cfg: Config) -> None:
    """A group option, or an edge list's sizes, given by hand: refused in one line saying how to compose it.

    A section of GROUP_SECTIONS whose name is not the default must carry the mark of the composition that
    chose that option (`mark_composed`). With network.kind=edgelist the agents and groups are the file's:
    n_agents and n_groups must be those composed with the network section (the command line and
    `sim.compose` refuse them when given with network=edgelist, `sim.config.preflight.check_from_file`), or
    the defaults for a network section built by hand. (A composed network section switched to an edge list
    in place keeps its composed sizes, as `ResocializationModel(graph=...)` does with a classic preset.)
    """
    from sim.config.compose import CONF_DIR  # (compose imports this module)

    defaults = _defaults()
    for group in GROUP_SECTIONS:
        name, default = getattr(cfg, group).name, getattr(defaults, group).name
        composed_as = getattr(getattr(cfg, group), _COMPOSED, None)
        if name == default or name == composed_as:
            continue
        had = f"{default} in a {group} section built by hand" if composed_as is None else f"{composed_as}, as composed"
        if (CONF_DIR / group / f"{name}.yaml").is_file():
            how = f"a {group} option sets other keys too, so compose it as the command line does: "
            how += f"sim.compose({group}={name!r}) or ResocializationModel({group}={name!r})"
        else:  # a label of one's own (scenario.name names the run directory)
            how = f"no conf/{group}/{name}.yaml; a name of your own is composed too: "
            how += f"sim.compose(**{{{f'{group}.name'!r}: {name!r}}})"
        raise ConfigError(f"{group}.name", name, f"{had} ({how})")
    if cfg.network.kind != "edgelist":
        return
    composed = getattr(cfg.network, _COMPOSED, None)
    sizes = composed if composed is not None else (defaults.n_agents, defaults.n_groups)
    for key, want in zip(("n_agents", "n_groups"), sizes, strict=True):
        if getattr(cfg, key) != want:
            which = "the composed value" if composed is not None else "the default"
            raise ConfigError(
                key,
                getattr(cfg, key),
                f"{which} ({want}) with network.kind=edgelist (the agents and groups are those of the file "
                f"network.path: leave {key} unset)",
            )


@functools.cache
def _defaults() -> Config:
    return Config()


def _get(obj: Any, key: str) -> Any:
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def _beta_pairs(cfg: Config) -> list[tuple[str, str]]:
    """The (mean, concentration) keys of every Beta distribution the model draws from."""
    pairs = [
        ("stance.initial_mean", "stance.initial_concentration"),
        ("messages.forum_mean", "messages.forum_concentration"),
    ]
    for prof in ("social_work", "health_care"):
        for f in dataclasses.fields(getattr(cfg.professions, prof)):
            pairs.append((f"professions.{prof}.{f.name}.mean", f"professions.{prof}.{f.name}.concentration"))
    return pairs


#: Significant digits of the tie probabilities derived from network.mean_degree and network.in_group_share:
#: rounding takes off the last bits of floating point, so that the defaults give exactly the probabilities
#: the model had before (0.1 and 0.002 at 1,000 agents in 10 groups); a relative change below 5e-6.
DERIVED_DIGITS = 6


def pair_counts(n_agents: int, n_groups: int) -> tuple[int, int]:
    """Pairs of agents within a group and between groups, for groups sized as `sim.core.network.group_sizes`."""
    size, extra = divmod(n_agents, n_groups)
    within = extra * (size + 1) * size // 2 + (n_groups - extra) * size * (size - 1) // 2
    return within, n_agents * (n_agents - 1) // 2 - within


def derived_probabilities(
    n_agents: int, n_groups: int, mean_degree: float, in_group_share: float
) -> tuple[float, float]:
    """The SBM's (p_in, p_out) whose expected ties give `mean_degree` per agent, `in_group_share` of them within.

    The expected ties, n k / 2, are split into within-group and between-group ties by the share and
    spread over the pairs of each kind (`pair_counts`), so p_in = s n k / (2 W) and p_out =
    (1 - s) n k / (2 B); rounded to `DERIVED_DIGITS` significant digits. With one group (no pair
    between groups) every tie is within, and with one agent per group every tie is between: the mean
    degree is kept and the share has no effect. A result above 1 is returned as is (`sbm_probabilities`
    caps it; the command line refuses it when the degree keys were given, `check_network`).
    """
    within, between = pair_counts(n_agents, n_groups)
    ties = mean_degree * n_agents / 2
    share = 1.0 if between == 0 else 0.0 if within == 0 else in_group_share
    p_in = share * ties / within if within else 0.0
    p_out = (1.0 - share) * ties / between if between else 0.0
    return _significant(p_in), _significant(p_out)


def _significant(x: float) -> float:
    return float(f"{x:.{DERIVED_DIGITS}g}")


def sbm_probabilities(cfg: Config) -> tuple[float, float]:
    """The (p_in, p_out) an SBM run uses: each as given, or derived (`derived_probabilities`) where it is null.

    A derived probability above 1 (a population too small for the default mean degree: groups of 5 cannot
    give 9.9 ties inside) is capped at 1, every pair of that kind tied; the run's summary says so
    (`network_description`). A mean degree given on the command line that needs more is refused there.
    """
    net = cfg.network
    if net.p_in is not None and net.p_out is not None:
        return net.p_in, net.p_out
    p_in, p_out = (
        min(1.0, p) for p in derived_probabilities(cfg.n_agents, cfg.n_groups, net.mean_degree, net.in_group_share)
    )
    return (p_in if net.p_in is None else net.p_in), (p_out if net.p_out is None else net.p_out)


def small_world_k(cfg: Config) -> int:
    """The small world's lattice degree: network.k, or network.mean_degree rounded to an even number when k is null."""
    if cfg.network.k is not None:
        return cfg.network.k
    k = 2 * math.floor(cfg.network.mean_degree / 2 + 0.5)
    most = cfg.n_agents - 1 - (cfg.n_agents - 1) % 2  # the largest even k below n_agents
    return min(k, most) if most >= 2 else k  # capped, like the SBM's probabilities


def network_description(cfg: Config) -> dict[str, Any]:
    """How the run's network was set, for its summary.

    The probabilities (or k) it used, which were derived from network.mean_degree, and the mean degree
    they give in expectation. `cfg` as the model runs it (a classic preset's Erdos-Renyi probabilities set).
    """
    net, n = cfg.network, cfg.n_agents
    out: dict[str, Any] = {"kind": net.kind}
    if net.kind == "sbm":
        p_in, p_out = sbm_probabilities(cfg)
        within, between = pair_counts(n, cfg.n_groups)
        derived = [k for k in ("p_in", "p_out") if getattr(net, k) is None]
        out |= {"p_in": p_in, "p_out": p_out, "derived": derived}
        if derived:
            out |= {"from_mean_degree": net.mean_degree, "from_in_group_share": net.in_group_share}
            raw = derived_probabilities(n, cfg.n_groups, net.mean_degree, net.in_group_share)
            out["capped"] = [k for k, x in zip(("p_in", "p_out"), raw, strict=True) if k in derived and x > 1.0]
        out["expected_mean_degree"] = 2 * (within * p_in + between * p_out) / n
    elif net.kind == "small_world":
        out |= {"k": small_world_k(cfg), "beta": net.beta, "derived": [] if net.k is not None else ["k"]}
        if net.k is None:
            out["from_mean_degree"] = net.mean_degree
        out["expected_mean_degree"] = float(out["k"])
    elif net.kind == "complete":
        out["expected_mean_degree"] = float(n - 1)
    return out


def check_network(cfg: Config, degree_given: bool = False) -> None:
    """The generated network's parameters as a run uses them (derived ones included) against their ranges.

    A derived probability above 1, or a small world's derived k at or above n_agents, is capped where the
    model derives it (`sbm_probabilities`, `small_world_k`): a small population runs with the default mean
    degree. Where the degree was given (`degree_given`: network.mean_degree or network.in_group_share on the
    command line), asking for more than the population allows is refused instead.
    """
    net, n = cfg.network, cfg.n_agents
    derives = (net.kind == "sbm" and None in (net.p_in, net.p_out)) or (net.kind == "small_world" and net.k is None)
    if cfg.preset.name in ER_PRESETS and net.kind == "sbm":
        return  # the classic's Erdos-Renyi graph is set by preset.k (checked in validate)
    if net.kind == "small_world" and net.k is not None and (net.k % 2 or net.k >= n):
        raise ConfigError("network.k", net.k, f"an even number below n_agents ({n})")
    if not degree_given:
        if net.kind == "small_world" and small_world_k(cfg) >= n:
            raise ConfigError("n_agents", n, ">= 3 for a small world (its ring needs k >= 2 neighbours, k < n_agents)")
        return
    if derives and net.mean_degree > n - 1:
        raise ConfigError("network.mean_degree", net.mean_degree, f"<= n_agents - 1 ({n - 1})")
    if net.kind == "small_world":
        k = 2 * math.floor(net.mean_degree / 2 + 0.5) if net.k is None else net.k  # as asked, before the cap
        if net.k is None and (k < 2 or k >= n):
            raise ConfigError(
                "network.mean_degree",
                net.mean_degree,
                f"one that rounds to an even k with 2 <= k < n_agents ({n}) with network.kind=small_world "
                f"and network.k=null (k = mean_degree rounded to an even number, here {k})",
            )
    if net.kind != "sbm" or not derives or cfg.n_groups > n:
        return
    p_in, p_out = derived_probabilities(n, cfg.n_groups, net.mean_degree, net.in_group_share)  # before the cap
    within, between = pair_counts(n, cfg.n_groups)
    for key, prob, pairs, share in (
        ("network.p_in", p_in, within, net.in_group_share),
        ("network.p_out", p_out, between, 1.0 - net.in_group_share),
    ):
        if prob > 1.0 and getattr(net, key.split(".")[1]) is None:
            most = 2 * pairs / (share * n)
            raise ConfigError(
                "network.mean_degree",
                net.mean_degree,
                f"<= {most:.4g} with network.in_group_share={net.in_group_share}, {n} agents in {cfg.n_groups} "
                f"groups (the derived {key} would be {prob:.4g}, above 1)",
            )


SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # names that are safe as one path component


def validate(cfg: Config) -> Config:
    """Check every field against its declared type and range, then the rules that tie fields together.

    A Config built by hand is checked as a composed one is: each value has its field's type (an integer
    for `steps`, a bool for a switch, a section's class for a section: `_check_fields`), a config group's
    option is composed, not named in a section built by hand, and an edge list's sizes are the file's
    (`_check_composed`). So a config this accepts runs (`sim.run.runner.run`), whatever built it.

    Every rule the model would otherwise meet only while it is built is here, so that the command line
    refuses a config before a run directory exists: the sizes of generated networks (complete, small
    world, the classics' Erdos-Renyi graph), Holme-Newman's number of opinions, and the exposure
    schedule against `steps`. `n_agents` and `steps` have hard upper bounds (MAX_AGENTS, MAX_STEPS);
    whether a run fits in the machine's memory is the command line's check (sim.config.preflight).

    A shock (exposure.kind=shock) must start before the last step: one that starts at the last step or
    later runs at most one step, none after it, and would be dropped without a word. A shock still
    running at the last step (start + length > steps) is allowed: the run ends during the surge (its
    summary then reports no recovery), as a study that stops mid-surge does.
    """
    _check_fields(cfg, "")
    if not SAFE_NAME.fullmatch(cfg.scenario.name) or ".." in cfg.scenario.name:
        raise ConfigError(
            "scenario.name",
            cfg.scenario.name,
            "1-64 letters, digits, '_', '-' or '.', starting with a letter or digit (it names the run directory)",
        )
    _check_composed(cfg)
    if cfg.n_agents > MAX_AGENTS:
        raise ConfigError("n_agents", cfg.n_agents, f"<= {MAX_AGENTS:,} (agents are numbered in 32 bits)")
    if cfg.steps > MAX_STEPS:
        raise ConfigError(
            "steps",
            cfg.steps,
            f"<= {MAX_STEPS:,} (about 40,000 years of working days: a bound on runs that would not end)",
        )
    if cfg.network.kind != "edgelist" and cfg.n_groups > cfg.n_agents:
        raise ConfigError("n_groups", cfg.n_groups, f"<= n_agents ({cfg.n_agents})")
    if cfg.network.kind == "edgelist" and not cfg.network.path:
        raise ConfigError("network.path", cfg.network.path, "a network file path when network.kind=edgelist")
    check_network(cfg)
    if cfg.network.kind == "complete" and cfg.n_agents > MAX_COMPLETE_AGENTS:
        raise ConfigError("n_agents", cfg.n_agents, f"<= {MAX_COMPLETE_AGENTS} with network.kind=complete (N^2/2 ties)")
    if cfg.preset.name in ER_PRESETS and cfg.network.kind == "sbm" and cfg.preset.k > cfg.n_agents - 1:
        raise ConfigError(
            "preset.k", cfg.preset.k, f"<= n_agents - 1 ({cfg.n_agents - 1}) with preset={cfg.preset.name}"
        )
    if (
        cfg.network.kind != "edgelist"
        and cfg.preset.name == "holme_newman"
        and round(cfg.n_agents / cfg.preset.gamma) < 2
    ):
        raise ConfigError(
            "preset.gamma", cfg.preset.gamma, f"<= n_agents / 2 ({cfg.n_agents / 2:g}), so G = round(N / gamma) >= 2"
        )
    if cfg.exposure.kind == "shock" and cfg.exposure.start >= cfg.steps:
        raise ConfigError(
            "exposure.start",
            cfg.exposure.start,
            f"< steps ({cfg.steps}) with exposure.kind=shock: the shock starts before the last step "
            "(one still running at the last step is allowed)",
        )
    if not 1.0 / cfg.output.snapshot_sample < 2**62:  # every round(1 / sample)-th agent: a 64-bit stride
        raise ConfigError(
            "output.snapshot_sample",
            cfg.output.snapshot_sample,
            f">= {2.0**-62:.3g} (snapshots keep every round(1 / sample)-th agent: a 64-bit stride)",
        )
    for mean_key, conc_key in _beta_pairs(cfg):
        mean, conc = _get(cfg, mean_key), _get(cfg, conc_key)
        if not mean * conc > 0:  # the Beta's a: both are > 0, yet their product may underflow to 0
            key, value = (conc_key, conc) if conc <= mean else (mean_key, mean)
            raise ConfigError(key, value, f"{mean_key} x {conc_key} > 0 (the Beta's a; {mean!r} x {conc!r} is 0)")
    if cfg.docking.name != "none" and cfg.preset.name != "full":
        raise ConfigError(
            "docking",
            cfg.docking.name,
            f"none with preset={cfg.preset.name} (docking runs the full model's step: preset=full; "
            f"preset={cfg.preset.name} runs the classic's own rule)",
        )
    if cfg.docking.name == "jager_amblard" and cfg.docking.T < cfg.docking.U:
        raise ConfigError("docking.T", cfg.docking.T, f">= docking.U ({cfg.docking.U})")
    if cfg.influence.rejection < cfg.influence.acceptance:
        raise ConfigError(
            "influence.rejection", cfg.influence.rejection, f">= influence.acceptance ({cfg.influence.acceptance})"
        )
    if cfg.preset.name == "jager_amblard" and cfg.preset.T < cfg.preset.U:
        raise ConfigError("preset.T", cfg.preset.T, f">= preset.U ({cfg.preset.U})")
    if cfg.metrics.ledger_window and cfg.steps > 65535:  # uint16 ledger counters saturate (sim/core/state.py)
        raise ConfigError(
            "metrics.ledger_window",
            cfg.metrics.ledger_window,
            f"0 when steps > 65535 (steps={cfg.steps}: the ledger's 16-bit counters saturate)",
        )
    if cfg.metrics.resister_below > cfg.metrics.adopter_above:
        raise ConfigError(
            "metrics.resister_below",
            cfg.metrics.resister_below,
            f"<= metrics.adopter_above ({cfg.metrics.adopter_above})",
        )
    return cfg


def parameter_table(cfg: Any = None, prefix: str = "") -> list[dict[str, Any]]:
    """Every leaf parameter with its value, range, unit and meaning (for docs and the app).

    `cfg` is a Config (default: the defaults) or, in the recursion, one of its sections.
    """
    rows: list[dict[str, Any]] = []
    for f in dataclasses.fields(cfg := cfg if cfg is not None else Config()):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            rows.extend(parameter_table(value, f"{prefix}{f.name}."))
        elif f.metadata:
            rows.append({"key": f"{prefix}{f.name}", "default": value, **dict(f.metadata)})
    return rows
