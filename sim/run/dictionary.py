"""What each column of a run's summary and metrics means, in words with its unit (the data dictionary).

A run's `summary.json`, flattened as a sweep's `summary.parquet` holds it (`final.<metric>`,
`initial.<metric>`, `recovery.<key>`, `n_ties`, ...), and the columns of `metrics.parquet`. The metrics'
words come from `sim.metrics.catalog`, the run's own keys from SUMMARY_FIELDS below; docs/metrics.md
("summary.json") lists the same keys (tests/integration/test_docs.py). A sweep's collection writes the
dictionary next to its tables (`sim.studies.collect`: summary.columns.csv, metrics.columns.csv), and
its figure's axes read `axis_label`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.metrics.catalog import CATALOG


@dataclass(frozen=True)
class Column:
    label: str  # words, for an axis
    unit: str
    meaning: str
    origin: str  # where the value comes from (file and key)
    reference: str = ""  # the finding or paper behind a metric


# summary.json's keys other than `final`, `initial`, `recovery` and `versions` (label, unit, meaning)
SUMMARY_FIELDS: dict[str, tuple[str, str, str]] = {
    "n_agents": ("population", "agents", "number of agents in the run"),
    "n_groups": ("number of groups", "groups", "number of groups"),
    "n_ties": ("ties at the end", "ties", "number of ties at the end of the run (muted ties count)"),
    "steps": ("steps asked for", "steps", "steps the run was configured for"),
    "seed": ("seed", "integer", "seed of the model's random number generator"),
    "scenario": ("scenario", "name", "the scenario's name (conf/scenario/)"),
    "preset": ("model variant", "name", "full model or a classic model as a special case (conf/preset/)"),
    "implementation": ("step implementation", "name", "compiled or per-agent reference step (same results)"),
    "stopped_at_step": ("last step run", "step", "step the run ended at (before `steps` if it converged)"),
    "regime": (
        "final regime",
        "consensus, polarization or fragmentation",
        "regime of the final stances by their number of major opinion clusters (1, 2, other)",
    ),
    "n_major_clusters": (
        "major opinion clusters at the end",
        "count",
        "major opinion clusters of the final stances",
    ),
    "n_minor_clusters": (
        "minor opinion clusters at the end",
        "count",
        "minor opinion clusters of the final stances",
    ),
    "wall_time_s": ("run time", "seconds", "wall time of the whole run"),
    "init_s": ("set-up time", "seconds", "wall time of building the model"),
}
RECOVERY_FIELDS: dict[str, tuple[str, str, str]] = {
    "pre_shock_engagement": (
        "engagement before the shock",
        "engagement, 0-1",
        "mean engagement at the last recorded step before the shock (empty without a shock)",
    ),
    "trough_engagement": (
        "lowest engagement during the shock",
        "engagement, 0-1",
        "minimum of mean engagement over the recorded steps of the shock",
    ),
    "recovery_steps": (
        "steps to recover engagement",
        "steps after the shock ends",
        "steps from the end of the shock until mean engagement is back to 95% of its pre-shock level "
        "(empty if it never is)",
    ),
}
# a run's network as built (summary.json `network`); its other keys are parameters of sim.config.params
NETWORK_FIELDS: dict[str, tuple[str, str, str]] = {
    "derived": ("derived network parameters", "names", "the network parameters derived from network.mean_degree"),
    "capped": (
        "derived probabilities capped at 1",
        "names",
        "derived tie probabilities that would exceed 1 (a population too small for the mean degree), set to 1",
    ),
    "from_mean_degree": (
        "mean degree asked for",
        "ties per agent",
        "network.mean_degree, from which the derived parameters were set",
    ),
    "from_in_group_share": (
        "in-group share asked for",
        "share of ties",
        "network.in_group_share, from which the derived parameters were set",
    ),
    "expected_mean_degree": (
        "expected mean degree",
        "ties per agent",
        "the mean degree the network's parameters give in expectation",
    ),
    "mean_degree": ("mean degree at step 0", "ties per agent", "mean number of ties per agent at step 0"),
}
WHEN = {"final": "at the last step", "initial": "at step 0"}
METRICS_COLUMNS: dict[str, tuple[str, str, str]] = {
    "step": ("step", "steps", "the step the values describe (0 = the initial state)"),
    "scope": ("scope", "name", "all (the whole population), group or profession"),
    "level": ("level", "name", "all; the group id; or social_work / health_care"),
    "metric": (
        "metric",
        "name",
        "the metric's key (its meaning and unit: the final.<metric> rows of summary.columns.csv)",
    ),
    "value": ("value", "the metric's unit", "the metric's value (empty where undefined)"),
    "group_label": (
        "group label",
        "the user's label",
        "a run on a user's network only: the group's label with its type, as group_label in nodes.parquet "
        "(integer when every label is one, else text), on rows of scope group; empty on the other scopes",
    ),
}


def describe(column: str) -> Column | None:
    """The words and unit of a column of a run's flattened summary, or of metrics.parquet; None if unknown."""
    head, _, key = column.partition(".")
    if head in WHEN and key in CATALOG:
        m = CATALOG[key]
        return Column(
            f"{m.label} {WHEN[head]}",
            m.unit,
            f"{m.meaning}, {WHEN[head]} (whole population)",
            f"summary.json: {head}.{key} (docs/metrics.md)",
            m.source,
        )
    if head == "recovery" and key in RECOVERY_FIELDS:
        label, unit, meaning = RECOVERY_FIELDS[key]
        return Column(label, unit, meaning, f"summary.json: recovery.{key} (docs/metrics.md, Recovery)", "KF7, KF8")
    if head == "network" and key in NETWORK_FIELDS:
        label, unit, meaning = NETWORK_FIELDS[key]
        return Column(label, unit, meaning, f"summary.json: network.{key}")
    param = _parameter(column)
    if param is not None:  # a section of summary.json holding parameters as the run used them
        words = str(param.get("doc") or column)
        return Column(words, str(param.get("unit") or ""), f"{words} (as the run used it)", f"summary.json: {column}")
    if column in SUMMARY_FIELDS:
        label, unit, meaning = SUMMARY_FIELDS[column]
        return Column(label, unit, meaning, f"summary.json: {column}")
    if column in METRICS_COLUMNS:
        label, unit, meaning = METRICS_COLUMNS[column]
        return Column(label, unit, meaning, f"metrics.parquet: {column} (docs/metrics.md)")
    return None


def _parameter(key: str) -> dict[str, Any] | None:
    from sim.config.params import parameter_table

    if "." not in key:  # the top-level keys of summary.json are described above
        return None
    return next((r for r in parameter_table() if r["key"] == key), None)


def axis_label(column: str) -> str:
    """`label (unit)` of a summary column, e.g. 'Esteban-Ray polarization at the last step (index, 0-1)'."""
    d = describe(column)
    return column if d is None else f"{d.label} ({d.unit})"
