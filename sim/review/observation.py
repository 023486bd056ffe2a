"""The observation model of the virtual review: every assumption of how studies see professionals.

The review (Couturier et al.) reports shares of its 51 *studies*, not of professionals. The virtual
review (the virtual-ecologist approach, Zurell et al. 2010) draws virtual studies that sample simulated
professionals, detect their effects and report them; `Observation` holds every assumption of that
process, each a parameter with a default, an allowed range, a one-line meaning and where it comes from
(a finding of the review, or a modelling choice). `parameter_rows()` lists them for the docs (the
table of docs/review.md and of the ODD's observation section is checked against it by the tests).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from sim.config.errors import InputError

DESIGNS = ("qualitative", "quantitative", "other")
PERIODS = ("before", "during", "after")
SETTINGS = ("social_work", "health_care", "mixed")
UNITS = ("group", "service")
CLASSES = ("mixed", "only_positive", "only_negative", "none")
# the review's shares of its 51 studies (KF4, KF6); "other" is only negative or no effect (the remaining 36%)
REVIEW_CLASSES = {"mixed": 0.39, "only_positive": 0.25, "other": 0.36}
REVIEW_DESIGNS = {"qualitative": 0.37, "quantitative": 0.10}
REVIEW_STUDIES = 51
CHOICE = "modelling choice"


class ObservationError(InputError):
    """An observation parameter outside what is allowed: one line naming the key, the value and what is allowed."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"invalid observation parameter: {key}={value!r}; allowed: {allowed}")


def o(default: Any, lo: float, hi: float, *, doc: str, source: str = CHOICE, unit: str = "") -> Any:
    """An observation parameter: default, allowed closed range [lo, hi], meaning and source."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "doc": doc, "source": source, "unit": unit})


@dataclass(frozen=True)
class Observation:
    """How the virtual literature is made: corpus, designs, periods, settings, sampling, detection, reporting."""

    # the corpus and its make-up
    studies: int = o(
        51,
        1,
        100_000,
        unit="studies",
        doc="studies per virtual corpus",
        source='the review: "The review analyzed 51 studies in total"',
    )
    qualitative: float = o(
        0.37,
        0.0,
        1.0,
        unit="share",
        doc="share of qualitative studies",
        source='KF4: "37% of the studies analyzed were qualitative"',
    )
    quantitative: float = o(
        0.10,
        0.0,
        1.0,
        unit="share",
        doc="share of quantitative studies (the rest, 1 - qualitative - quantitative, other designs)",
        source='KF4: "[...] and 10% were quantitative"',
    )
    before: float = o(
        0.30,
        0.0,
        1.0,
        unit="weight",
        doc="relative weight of studies observing the period before the surge (the three weights are normalized)",
        source='modelling choice; KF1: research "began to emerge in around 2011"',
    )
    during: float = o(
        0.45,
        0.0,
        1.0,
        unit="weight",
        doc="relative weight of studies observing the surge",
        source='modelling choice; KF1: "substantial interest observed in 2020"',
    )
    after: float = o(0.25, 0.0, 1.0, unit="weight", doc="relative weight of studies observing the period after it")
    social_work: float = o(
        0.40,
        0.0,
        1.0,
        unit="share",
        doc="share of studies of social workers",
        source='modelling choice; the review covers "health care and social services professions in general, '
        'and social work in particular"',
    )
    health_care: float = o(
        0.40,
        0.0,
        1.0,
        unit="share",
        doc="share of studies of health-care staff (the rest, mixed settings, sample both professions)",
    )
    group_share: float = o(
        0.50,
        0.0,
        1.0,
        unit="share",
        doc="share of studies sampling whole groups (teams) rather than individuals across a service",
    )
    examined: float = o(
        0.64,
        0.0,
        1.0,
        unit="probability",
        doc="chance a study examines effects on its professionals at all (else it reports none)",
        source=(
            "modelling choice; the review's corpus includes conceptual and methodological works (its objective: "
            '"to synthesize conceptual and methodological works and insights"), which report no effects'
        ),
    )
    # sample sizes: log-uniform integers in [min, max] by design, capped by the professionals available
    size_min_qualitative: int = o(5, 1, 100_000, unit="professionals", doc="smallest qualitative sample")
    size_max_qualitative: int = o(40, 1, 100_000, unit="professionals", doc="largest qualitative sample")
    size_min_quantitative: int = o(50, 1, 100_000, unit="professionals", doc="smallest quantitative sample")
    size_max_quantitative: int = o(400, 1, 100_000, unit="professionals", doc="largest quantitative sample")
    size_min_other: int = o(10, 1, 100_000, unit="professionals", doc="smallest sample of other designs")
    size_max_other: int = o(60, 1, 100_000, unit="professionals", doc="largest sample of other designs")
    # when a professional has an effect
    salience_positive: int = o(
        1,
        1,
        100_000,
        unit="ledger events",
        doc="positive ledger events in the study's period for a professional to have a positive effect",
    )
    salience_negative: int = o(
        1,
        1,
        100_000,
        unit="ledger events",
        doc="negative ledger events in the study's period for a professional to have a negative effect",
    )
    # detection, per participant
    sensitivity_qualitative: float = o(
        0.5, 0.0, 1.0, unit="probability", doc="chance a qualitative study detects a participant's effect"
    )
    sensitivity_quantitative: float = o(
        0.7, 0.0, 1.0, unit="probability", doc="chance a quantitative study detects a participant's effect"
    )
    sensitivity_other: float = o(
        0.4, 0.0, 1.0, unit="probability", doc="chance a study of another design detects a participant's effect"
    )
    false_positive: float = o(
        0.02, 0.0, 1.0, unit="probability", doc="chance an effect a participant does not have is recorded"
    )
    negative_focus: float = o(
        0.72,
        0.0,
        1.0,
        unit="probability",
        doc="chance a study looks for negative effects at all (every study looks for positive ones)",
        source='modelling choice; KF5: "Most studies focus on its positive opposite, professional socialization"',
    )
    unfocused_sensitivity: float = o(
        0.3,
        0.0,
        1.0,
        unit="factor",
        doc="factor on the detection (and false records) of negative effects by a study not looking for them",
        source="modelling choice; KF5",
    )
    # what a study observes: a theme (qualitative) or a prevalence (quantitative) in enough of its sample
    theme_share_qualitative: float = o(
        0.15, 0.0, 1.0, unit="share of sample", doc="share of a qualitative sample with a detected effect for a theme"
    )
    theme_share_quantitative: float = o(
        0.10,
        0.0,
        1.0,
        unit="share of sample",
        doc="share of a quantitative sample with a detected effect for a reported prevalence",
    )
    theme_share_other: float = o(
        0.15, 0.0, 1.0, unit="share of sample", doc="share of the sample with a detected effect, other designs"
    )
    # reporting
    report_positive: float = o(1.0, 0.0, 1.0, unit="probability", doc="chance an observed positive effect is reported")
    report_negative: float = o(
        0.79,
        0.0,
        1.0,
        unit="probability",
        doc="chance an observed negative effect is reported (below 1: a bias toward positive findings)",
        source='modelling choice; policy implications: "much of the literature surveyed takes a sympathetic '
        'and friendly position on technology"',
    )

    def __post_init__(self) -> None:
        validate(self)

    # views used by the corpus
    @property
    def design_weights(self) -> tuple[float, float, float]:
        return (self.qualitative, self.quantitative, max(0.0, 1.0 - self.qualitative - self.quantitative))

    @property
    def period_weights(self) -> tuple[float, float, float]:
        total = self.before + self.during + self.after
        return (self.before / total, self.during / total, self.after / total)

    @property
    def setting_weights(self) -> tuple[float, float, float]:
        return (self.social_work, self.health_care, max(0.0, 1.0 - self.social_work - self.health_care))

    def by_design(self, name: str) -> tuple[float, float, float]:
        """(qualitative, quantitative, other) values of a per-design parameter (`sensitivity`, `size_min`, ...)."""
        qualitative, quantitative, other = (float(getattr(self, f"{name}_{d}")) for d in DESIGNS)
        return qualitative, quantitative, other

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> Observation:
        return dataclasses.replace(self, **changes)


FIELDS = {f.name: f for f in dataclasses.fields(Observation)}


def range_text(key: str) -> str:
    meta = FIELDS[key].metadata
    kind = "an integer" if _is_int(key) else "a number"
    return f"{kind} in [{meta['lo']}, {meta['hi']}]"


def _is_int(key: str) -> bool:
    return FIELDS[key].type in ("int", int)


def validate(obs: Observation) -> None:
    """Every field in its range, then the rules that tie fields together (ObservationError otherwise)."""
    for key, f in FIELDS.items():
        value = getattr(obs, key)
        lo, hi = f.metadata["lo"], f.metadata["hi"]
        if _is_int(key):
            ok = isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
        else:
            ok = (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and lo <= value <= hi
            )
        if not ok:
            raise ObservationError(key, value, range_text(key))
    if obs.qualitative + obs.quantitative > 1 + 1e-12:
        raise ObservationError("quantitative", obs.quantitative, f"<= 1 - qualitative ({1 - obs.qualitative:g})")
    if obs.social_work + obs.health_care > 1 + 1e-12:
        raise ObservationError("health_care", obs.health_care, f"<= 1 - social_work ({1 - obs.social_work:g})")
    if obs.before + obs.during + obs.after <= 0:
        raise ObservationError("after", obs.after, "> 0 when before and during are 0 (the period weights sum above 0)")
    for d in DESIGNS:
        lo, hi = getattr(obs, f"size_min_{d}"), getattr(obs, f"size_max_{d}")
        if lo > hi:
            raise ObservationError(f"size_max_{d}", hi, f">= size_min_{d} ({lo})")


def parse_value(key: str, text: str) -> int | float:
    """A command-line value for `key`, typed as the field (ObservationError naming the key otherwise)."""
    if key not in FIELDS:
        raise InputError(f"unknown observation parameter: {key!r}; allowed: {', '.join(FIELDS)}")
    try:
        if _is_int(key):
            number = float(text)
            if not number.is_integer():
                raise ValueError(text)
            return int(number)
        return float(text)
    except ValueError:
        raise ObservationError(key, text, range_text(key)) from None


def from_overrides(overrides: list[str] | tuple[str, ...] = (), base: Observation | None = None) -> Observation:
    """An Observation from `key=value` strings (checked: one line naming the key at fault)."""
    changes: dict[str, Any] = {}
    for item in overrides:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise InputError(
                f"invalid observation override: {item!r}; allowed: key=value with a key of {', '.join(FIELDS)}"
            )
        changes[key] = parse_value(key, text.strip())
    return dataclasses.replace(base or Observation(), **changes)


def parameter_rows() -> list[dict[str, Any]]:
    """Every observation parameter: key, default, allowed range, unit, meaning and source (for the docs)."""
    return [
        {
            "key": key,
            "default": f.default,
            "range": f"[{f.metadata['lo']}, {f.metadata['hi']}]",
            "unit": f.metadata["unit"],
            "doc": f.metadata["doc"],
            "source": f.metadata["source"],
        }
        for key, f in FIELDS.items()
    ]
