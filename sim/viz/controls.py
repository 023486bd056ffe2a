"""The app's controls, built from the config schema (`sim.config.params`), and presets composed as the CLI does.

Names, defaults, allowed ranges, units and meanings all come from the field metadata of
`sim.config.params` (`parameter_table`); this module only chooses *which* parameters a class plays with,
gives them short labels, and narrows ranges that are open-ended (or far wider than a classroom
needs) to a slider span. A span never widens the schema's range, so a value the app accepts is a
value the CLI accepts. Scenario presets are composed with Hydra from `conf/` exactly as
`python -m sim scenario=NAME` composes them.
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass
from typing import Any

from sim.config.compose import compose, get_value, with_values
from sim.config.errors import InputError
from sim.config.params import SWITCHES, Config, parameter_table, validate
from sim.config.preflight import group_options

# The size the app starts with (a network a class can read); the rest are the CLI's defaults.
APP_SIZE: dict[str, Any] = {"n_agents": 200, "n_groups": 5}
# Keys a preset leaves as the user set them, unless the preset itself changes them.
SIZE_KEYS = ("n_agents", "n_groups", "seed", "steps")

# Which parameters the class plays with, in the order of the sidebar.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Population", ("n_agents", "n_groups", "seed", "steps")),
    (
        "Digital exposure",
        (
            "exposure.kind",
            "exposure.baseline",
            "exposure.height",
            "exposure.start",
            "exposure.length",
            "exposure.persistence",
            "messages.porosity",
        ),
    ),
    ("Attention", ("attention.capacity",)),
    (
        "Critical thinking by profession",
        ("professions.social_work.critical.mean", "professions.health_care.critical.mean", "influence.mistrust"),
    ),
    ("Social judgment", ("influence.acceptance", "influence.rejection")),
    ("Exclusion and rewiring", ("ties.exclusion_rate", "ties.rewire_rate", "ties.homophily", "influence.hardening")),
    ("Mechanisms on / off", SWITCHES),
)

# Short labels (the schema's one-line meaning is shown as the help text).
LABELS = {
    "n_agents": "agents",
    "n_groups": "groups",
    "seed": "seed",
    "steps": "steps (working days)",
    "exposure.kind": "exposure schedule",
    "exposure.baseline": "exposure level E",
    "exposure.height": "shock height",
    "exposure.start": "shock start",
    "exposure.length": "shock length",
    "exposure.persistence": "kept after the shock",
    "messages.porosity": "porosity to general forums",
    "attention.capacity": "attention capacity",
    "professions.social_work.critical.mean": "critical thinking, social work",
    "professions.health_care.critical.mean": "critical thinking, health care",
    "influence.mistrust": "critical mistrust of the broadcast",
    "influence.acceptance": "latitude of acceptance",
    "influence.rejection": "latitude of rejection",
    "ties.exclusion_rate": "exclusion rate",
    "ties.rewire_rate": "rewiring rate",
    "ties.homophily": "homophily (new ties within)",
    "influence.hardening": "hardening of the marginalized",
    "attention.trust_dynamics": "tech trust moves with experience",
    "ties.asocial_exclusion": "asocial dissenters excluded more (the review's chain)",
    "messages.peer": "peer messages",
    "messages.broadcast": "broadcast of the dominant discourse",
    "messages.forum": "general forums",
    "attention.enabled": "finite attention and withdrawal",
    "influence.enabled": "social-judgment influence",
    "influence.contrast": "contrast (move away beyond rejection)",
    "ties.muting": "muting",
    "ties.exclusion": "exclusion of dissenters",
    "ties.rewiring": "rewiring of dissenters",
    "ties.formation": "new ties",
    "identity.enabled": "identity work",
    "professions.heterogeneous": "professions differ",
}

# Slider spans (lo, hi, step): they only narrow the schema's range (open-ended or very wide ones). A
# default must lie on its slider's steps, or the slider moves it when the page opens (and the app says
# the settings changed before anyone touched them).
SPANS: dict[str, tuple[float, float, float]] = {
    "n_agents": (20, 1000, 10),
    "n_groups": (1, 20, 1),
    "steps": (10, 1000, 10),
    "exposure.baseline": (0.0, 5.0, 0.1),
    "exposure.height": (0.0, 10.0, 0.1),
    "exposure.start": (0, 500, 5),
    "exposure.length": (0, 500, 5),
    "attention.capacity": (0.5, 30.0, 0.1),
    "professions.social_work.critical.mean": (0.05, 0.95, 0.05),
    "professions.health_care.critical.mean": (0.05, 0.95, 0.05),
    "ties.exclusion_rate": (0.0, 0.2, 0.005),
    "ties.rewire_rate": (0.0, 1.0, 0.01),
}
DEFAULT_STEP = {"int": 1, "float": 0.01}


@dataclass(frozen=True)
class ControlSpec:
    """One control: which widget, its range and help text, all from the schema."""

    key: str
    label: str
    kind: str  # "int", "float", "select", "bool", "seed"
    default: Any
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[str, ...] | None = None
    unit: str = ""
    doc: str = ""
    schema_lo: float | None = None
    schema_hi: float | None = None
    lo_open: bool = False


def schema_rows() -> dict[str, dict[str, Any]]:
    """Every leaf parameter of the schema by dotted key (default, lo, hi, unit, doc, choices)."""
    return {row["key"]: row for row in parameter_table()}


def _kind(key: str, row: dict[str, Any]) -> str:
    default = row["default"]
    if row.get("choices"):
        return "select"
    if isinstance(default, bool):
        return "bool"
    if key == "seed":
        return "seed"  # a 63-bit range: typed, not slid
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    raise TypeError(f"no control for {key} ({type(default).__name__})")


def _spec(key: str, row: dict[str, Any]) -> ControlSpec:
    kind = _kind(key, row)
    lo, hi = row.get("lo"), row.get("hi")
    common = {
        "key": key,
        "label": LABELS.get(key, key),
        "kind": kind,
        "default": row["default"],
        "unit": row.get("unit", ""),
        "doc": row.get("doc", ""),
        "schema_lo": lo,
        "schema_hi": hi,
        "lo_open": bool(row.get("lo_open")),
    }
    if kind == "select":
        return ControlSpec(**common, choices=tuple(row["choices"]))
    if kind == "bool":
        return ControlSpec(**common)
    if kind == "seed":
        return ControlSpec(**common, min=lo, max=hi, step=1)
    span_lo, span_hi, step = SPANS.get(key, (-math.inf, math.inf, DEFAULT_STEP[kind]))
    s_lo = lo + (step if row.get("lo_open") else 0) if lo is not None else -math.inf
    s_hi = hi if hi is not None else math.inf
    c_lo, c_hi = max(s_lo, span_lo), min(s_hi, span_hi)
    if not (math.isfinite(c_lo) and math.isfinite(c_hi)) or c_lo > c_hi:
        raise ValueError(f"{key}: no finite slider span inside the schema range [{lo}, {hi}]; add it to SPANS")
    if kind == "int":
        c_lo, c_hi, step = int(c_lo), int(c_hi), max(1, int(step))
    return ControlSpec(**common, min=c_lo, max=c_hi, step=step)


def control_specs() -> list[ControlSpec]:
    """The app's controls in sidebar order, each carrying the schema's range, unit and meaning."""
    rows = schema_rows()
    return [_spec(key, rows[key]) for _, keys in SECTIONS for key in keys]


def sections() -> list[tuple[str, list[ControlSpec]]]:
    by_key = {s.key: s for s in control_specs()}
    return [(title, [by_key[k] for k in keys]) for title, keys in SECTIONS]


def control_values(cfg: Config) -> dict[str, Any]:
    return {s.key: get_value(cfg, s.key) for s in control_specs()}


def problem(cfg: Config) -> str | None:
    """The CLI's one-line message if `cfg` is invalid, else None."""
    try:
        validate(copy.deepcopy(cfg))
    except InputError as err:
        return str(err)
    return None


def _shown(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def pending_note(pending: Config, current: Config, most: int = 3) -> str | None:
    """One sentence on what the pending settings change in the run on screen; None when Reset would change nothing.

    Invalid pending settings change nothing either (Reset keeps the run's settings; the sidebar says why).
    """
    if pending == current or problem(pending) is not None:
        return None
    if pending.scenario.name != current.scenario.name:
        return f"Scenario preset {pending.scenario.name} chosen; the plots show a run of {current.scenario.name}."
    changed = [
        f"{s.label} {_shown(get_value(current, s.key))} \u2192 {_shown(get_value(pending, s.key))}"
        for s in control_specs()
        if get_value(pending, s.key) != get_value(current, s.key)
    ]
    if not changed:
        return "Settings changed."
    more = f" and {len(changed) - most} more" if len(changed) > most else ""
    return f"Changed: {', '.join(changed[:most])}{more}."


# --- presets: composed with Hydra from conf/, as the command line does ---------------------------


@functools.lru_cache(maxsize=64)
def _composed_once(overrides: tuple[str, ...]) -> Config:
    return compose(list(overrides))


def composed(overrides: tuple[str, ...] = ()) -> Config:
    """`sim.config.compose.compose(overrides)`, composed once per server process (a copy each time).

    Hydra's composition takes tens of milliseconds and one at a time; a classroom opening the app at once
    would otherwise queue behind it. The files under conf/ are read when first needed: restart the app
    after editing them.
    """
    return copy.deepcopy(_composed_once(tuple(overrides)))


def scenario_names() -> list[str]:
    return group_options("scenario")


def load_scenario(name: str) -> Config:
    """conf/scenario/NAME.yaml composed over the defaults: `python -m sim scenario=NAME`."""
    if name not in scenario_names():
        raise InputError(f"unknown scenario {name!r}; allowed: {', '.join(scenario_names())}")
    return composed((f"scenario={name}",))


def apply_preset(current: Config, name: str) -> Config:
    """The preset's config, keeping the current population size and seed unless the preset sets them."""
    preset, base = load_scenario(name), composed()
    keep = {k: get_value(current, k) for k in SIZE_KEYS if get_value(preset, k) == get_value(base, k)}
    return with_values(preset, keep)


def initial_config() -> Config:
    """What the app starts with: the CLI's default config at the app's size."""
    return with_values(composed(), APP_SIZE)
