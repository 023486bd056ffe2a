"""The experiments' headline comparisons, defined once: what is compared, in which runs, and what produces it.

Each experiment notebook draws one or two conclusions (the surge raises overload withdrawal; social
work is less engaged and more resistant than health care; each intervention against the surge; porous
against sealed forums; the asociality -> marginalization chain). A conclusion drawn at the defaults
only says little; `sim.studies.sensitivity` evaluates these same comparisons over a sample of the
calibrated posterior (method `posterior`: the share of the sample where each has each sign) and
computes their Morris and Sobol indices (`headlines: all` in an experiment definition).

A headline is a paired difference under common random numbers: a value of the `treatment` arm minus a
value of the `control` arm *at the same sample point and seed* (the two runs share their random
numbers), or, for the professions, social work minus health care within one run. Its value is read
from a run's metrics: the mean over the surge's recorded steps (`window="surge"`) or the value at the
last recorded step (`window="final"`), over all agents or over one profession.

An arm is a list of overrides added to the experiment's own; each arm runs as its own sweep of the
sample points and seeds, so every launcher, resume and collection works as for any sweep.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

ARMS: dict[str, list[str]] = {
    "none": ["scenario=baseline"],
    "surge": ["scenario=pandemic_shock"],
    "literacy": ["scenario=literacy_training"],
    "cap": ["scenario=capped_hyperconnectivity"],
    "sealed": ["scenario=sealed_forums"],
    "porous": ["scenario=porous_forums"],
    "no_chain": ["scenario=baseline", "ablation=no_chain"],
}
# every arm records by profession (the professions' gaps), every 5 steps, and writes no figure or events
ARM_OVERRIDES = [
    "metrics.by_profession=true",
    "metrics.by_group=false",
    "metrics.every=5",
    "output.figure=false",
    "output.events=false",
    "output.snapshot_every=0",
]
KINDS = ("mechanism", "assumption", "emergent")


@dataclasses.dataclass(frozen=True)
class Headline:
    name: str
    experiment: str  # the notebook that draws the conclusion
    label: str  # the comparison in words, for tables and figures
    metric: str  # a metric of metrics.parquet
    treatment: str  # arm
    control: str  # arm (the same arm for a gap within runs)
    window: str = "final"  # "final": last recorded step; "surge": mean over the surge's recorded steps
    levels: tuple[str, str] | None = None  # (treatment level, control level) of scope "profession"
    relative: bool = False  # 1 - treatment / control: the share of the control's value the treatment removes
    expected: int = 0  # the sign the notebook's conclusion states (+1, -1), 0 if it states none
    kind: str = "mechanism"  # what produces it: a mechanism, an assumption (an input restated), or emergent
    produced_by: str = ""  # ... in words, naming the mechanism (ODD section) or assumption


HEADLINES: dict[str, Headline] = {
    h.name: h
    for h in (
        Headline(
            "surge_overload_withdrawn",
            "pandemic_shock",
            "withdrawn under overload during the surge: surge - no surge",
            "overload_withdrawn_share",
            "surge",
            "none",
            window="surge",
            expected=1,
            kind="mechanism",
            produced_by="attention: load above capacity lowers engagement until the agent withdraws (ODD 7.4, 7.5); "
            "the surge raises load through exposure, an input",
        ),
        Headline(
            "profession_engagement_gap",
            "professions",
            "engagement at the end: social work - health care (surge)",
            "engagement_mean",
            "surge",
            "surge",
            levels=("social_work", "health_care"),
            expected=-1,
            kind="assumption",
            produced_by="inputs: social work draws lower tech trust and literacy (conf/professions/default.yaml); "
            "trust dynamics and overload (ODD 7.4, 7.5) widen or narrow the gap",
        ),
        Headline(
            "profession_resister_gap",
            "professions",
            "resisters at the end: social work - health care (surge)",
            "resister_share",
            "surge",
            "surge",
            levels=("social_work", "health_care"),
            expected=1,
            kind="emergent",
            produced_by="critical thinking narrows the latitude toward the broadcast and feeds mistrust "
            "(ODD 7.6); resistance itself emerges from influence, contrast and hardening",
        ),
        Headline(
            "literacy_withdrawn",
            "interventions",
            "withdrawn during the surge: literacy training - surge alone",
            "withdrawn_share",
            "literacy",
            "surge",
            window="surge",
            expected=-1,
            kind="assumption",
            produced_by="capacity rises with literacy by assumption (ODD 7.4), so training lowers overload; "
            "less overload means less withdrawal",
        ),
        Headline(
            "cap_withdrawn",
            "interventions",
            "withdrawn during the surge: capped hyperconnectivity - surge alone",
            "withdrawn_share",
            "cap",
            "surge",
            window="surge",
            expected=-1,
            kind="assumption",
            produced_by="the cap removes offered messages (ODD 7.2), so load falls by construction; "
            "less overload means less withdrawal",
        ),
        Headline(
            "porous_esteban_ray",
            "forums",
            "Esteban-Ray polarization at the end: porous - sealed forums",
            "esteban_ray",
            "porous",
            "sealed",
            kind="emergent",
            produced_by="forum messages centred away from the dominant discourse (ODD 7.2) meet bounded "
            "confidence, contrast and exclusion; no rule sets polarization directly",
        ),
        Headline(
            "chain_marginalized",
            "ablation",
            "marginalized at the end: chain switched off - default",
            "marginalized_share",
            "no_chain",
            "none",
            expected=-1,
            kind="mechanism",
            produced_by="the asociality -> marginalization chain: an asocial dissenter loses in-group ties "
            "(ODD 7.8, KF10)",
        ),
        Headline(
            "chain_share_of_marginalization",
            "ablation",
            "share of marginalization the chain produces: 1 - (chain off) / default",
            "marginalized_share",
            "no_chain",
            "none",
            relative=True,
            expected=1,
            kind="mechanism",
            produced_by="the asociality -> marginalization chain (ODD 7.8, KF10)",
        ),
        Headline(
            "chain_esteban_ray",
            "ablation",
            "Esteban-Ray polarization at the end: chain switched off - default",
            "esteban_ray",
            "no_chain",
            "none",
            expected=-1,
            kind="mechanism",
            produced_by="marginalization feeds polarization through exclusion and rewiring toward "
            "like-minded others (ODD 7.8, 7.11, KF10)",
        ),
    )
}


def resolve(names: list[str] | str) -> list[Headline]:
    """Headlines by name (`"all"`: every one); raises KeyError naming the first unknown one."""
    if names == "all":
        return list(HEADLINES.values())
    unknown = [n for n in names if n not in HEADLINES]
    if unknown:
        raise KeyError(unknown[0])
    return [HEADLINES[n] for n in names]


def arms_for(headlines: list[Headline]) -> dict[str, list[str]]:
    """The arms these headlines compare, in the order of ARMS."""
    wanted = {h.treatment for h in headlines} | {h.control for h in headlines}
    return {a: ARMS[a] for a in ARMS if a in wanted}


def run_values(metrics: pd.DataFrame, h: Headline, surge: tuple[int, int], side: int) -> pd.Series:
    """Per (sample, seed): the headline's value in one arm's collected metrics (`side` 0: treatment, 1: control)."""
    scope, level = ("all", None) if h.levels is None else ("profession", h.levels[side])
    m = metrics[(metrics["metric"].astype(str) == h.metric) & (metrics["scope"].astype(str) == scope)]
    if level is not None:
        m = m[m["level"].astype(str) == level]
    keys = ["sample", "seed"]
    m = m.assign(sample=m["sample"].astype(str))
    if h.window == "surge":
        lo, hi = surge
        m = m[(m["step"] >= lo) & (m["step"] < hi)]
        return m.groupby(keys)["value"].mean()
    last = m.groupby(keys)["step"].transform("max")
    return m[m["step"] == last].set_index(keys)["value"]


def paired(arm_metrics: dict[str, pd.DataFrame], h: Headline, surge: tuple[int, int]) -> pd.Series:
    """Per (sample, seed): treatment - control (or 1 - treatment / control), at the same point and seed."""
    t = run_values(arm_metrics[h.treatment], h, surge, 0)
    c = run_values(arm_metrics[h.control], h, surge, 1)
    t, c = t.align(c, join="inner")
    if h.relative:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (1.0 - t / c).where(c > 0)
    return t - c


def read_arm_metrics(runs: Path, arms: list[str]) -> dict[str, pd.DataFrame]:
    """The collected metrics.parquet of each arm's sweep (`runs/ARM/metrics.parquet`), only what headlines read."""
    import pyarrow.parquet as pq

    wanted = sorted({h.metric for h in HEADLINES.values()})
    out = {}
    for arm in arms:
        path = runs / arm / "metrics.parquet"
        table = pq.read_table(
            path,
            columns=["sample", "seed", "step", "scope", "level", "metric", "value"],
            filters=[("metric", "in", wanted)],
        )
        out[arm] = table.to_pandas()
    return out


def produced_text(experiment: str) -> str:
    """Markdown: what in the model produces each headline of `experiment`, and where it is checked across the space."""
    lines = [
        f"- **{h.label}**: {h.kind}. {h.produced_by[0].upper()}{h.produced_by[1:]}."
        for h in HEADLINES.values()
        if h.experiment == experiment
    ]
    return (
        "**What produces these conclusions** (mechanism: a rule of the model; assumption: an input the comparison "
        "restates; emergent: no rule sets it):\n\n"
        + "\n".join(lines)
        + "\n\nThese are conclusions at the default parameters; `sensitivity.ipynb` evaluates the same comparisons "
        "over a sample of the calibrated posterior (the share of it where each has each sign) and reports their "
        "Morris and Sobol sensitivity."
    )
