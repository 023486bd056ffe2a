"""The virtual review's observation model (sim/review): periods, sampling, detection, reporting, classes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config.errors import InputError
from sim.config.params import Config
from sim.core.state import LEDGER, LEDGER_NEGATIVE, LEDGER_POSITIVE
from sim.review import (
    Observation,
    draw_corpora,
    draw_corpus,
    effects_from_model,
    effects_from_snapshots,
    from_overrides,
    needed_steps,
    parameter_rows,
    period_bounds,
    professional_shares,
    summarize,
)
from sim.review.observation import CLASSES, DESIGNS, PERIODS, ObservationError

ROOT = Path(__file__).resolve().parents[2]
# detection and reporting that hide nothing: every study sees exactly what its sample has
PERFECT = dict(
    sensitivity_qualitative=1.0,
    sensitivity_quantitative=1.0,
    sensitivity_other=1.0,
    false_positive=0.0,
    negative_focus=1.0,
    examined=1.0,
    report_positive=1.0,
    report_negative=1.0,
)


def table(
    runs: int = 2,
    groups: int = 3,
    per_group: int = 10,
    positive: int | np.ndarray = 1,
    negative: int | np.ndarray = 1,
    periods: tuple[str, ...] = PERIODS,
    profession: str | None = None,
) -> pd.DataFrame:
    """A hand-built effects table: `per_group` agents in each group of each run, in every period.

    Professions alternate by group (social work, health care, ...) unless `profession` is given.
    """
    rows = []
    for r in range(runs):
        for p in periods:
            for g in range(groups):
                for a in range(per_group):
                    prof = profession or ("social_work" if g % 2 == 0 else "health_care")
                    rows.append((f"run{r}", "s", r, p, g * per_group + a, g, prof))
    df = pd.DataFrame(rows, columns=["run", "scenario", "seed", "period", "agent_id", "group", "profession"])
    df["positive"] = positive
    df["negative"] = negative
    return df


def available(effects: pd.DataFrame, obs: Observation) -> pd.Series:
    """Professionals a study can sample, computed here independently of sim.review.corpus."""
    out = {}
    members = effects.drop_duplicates(["run", "agent_id"]).groupby(["run", "group", "profession"]).size()
    for (run, period), sub in effects.groupby(["run", "period"]):
        for setting in ("social_work", "health_care", "mixed"):
            of = sub if setting == "mixed" else sub[sub.profession == setting]
            out[(run, period, setting, "service")] = len(of)
            m = members.loc[run].unstack(fill_value=0)
            for prof in ("social_work", "health_care"):
                if prof not in m:
                    m[prof] = 0
            if setting == "mixed":
                ok = m.index
            else:
                other = "health_care" if setting == "social_work" else "social_work"
                ok = m.index[(m[setting] > 0) & (m[setting] >= m[other])]
            out[(run, period, setting, "group")] = int(of["group"].isin(ok).sum())
    return pd.Series(out)


# ---------------------------------------------------------------- periods from snapshots


def test_periods_are_the_steps_run_at_each_exposure():
    # step t runs at E(t); the surge's steps are start .. start + length - 1
    assert period_bounds(50, 60, 200) == {"before": (0, 49), "during": (49, 109), "after": (109, 200)}
    assert needed_steps(50, 60, 200) == [0, 49, 109, 200]
    assert period_bounds(1, 5, 20) == {"during": (0, 5), "after": (5, 20)}  # step 1 is already a surge step
    assert period_bounds(0, 5, 20) == {"during": (0, 4), "after": (4, 20)}
    assert period_bounds(30, 5, 20) == {"before": (0, 20)}  # the surge never comes
    assert period_bounds(10, 0, 20) == {"before": (0, 9), "after": (9, 20)}
    assert period_bounds(10, 20, 20) == {"before": (0, 9), "during": (9, 20)}


def _snapshots(gains: dict[int, dict[str, list[int]]]) -> dict[int, dict[str, np.ndarray]]:
    """Cumulative counters at each step from the gains of the step intervals ending there."""
    total = {k: np.zeros(3, dtype=np.int64) for k in LEDGER}
    out = {0: {k: v.astype(np.uint16) for k, v in total.items()}}
    for step in sorted(gains):
        for k in LEDGER:
            total[k] = total[k] + np.asarray(gains[step].get(k, [0, 0, 0]))
        out[step] = {k: v.astype(np.uint16) for k, v in total.items()}
    return out


def test_effects_from_snapshots_gives_the_gains_of_each_period():
    # start 4, length 3, 10 steps: before = steps 1-3, during = 4-6, after = 7-10
    snaps = _snapshots(
        {
            3: {"identity_gains": [2, 0, 0], "ties_lost": [0, 1, 0]},
            6: {"overload_episodes": [1, 4, 0], "ties_gained": [0, 1, 0]},
            10: {"withdrawals": [0, 0, 3], "identity_gains": [1, 0, 0]},
            8: {},  # a snapshot the periods do not need is ignored
        }
    )
    df = effects_from_snapshots(snaps, np.array([0, 1, 1]), [0, 0, 1], 4, 3, 10, run="r", scenario="x", seed=7)
    assert list(df.columns[:9]) == [
        "run",
        "scenario",
        "seed",
        "period",
        "agent_id",
        "group",
        "profession",
        "positive",
        "negative",
    ]
    assert set(LEDGER) <= set(df.columns) and len(df) == 9
    got = df.set_index(["period", "agent_id"])
    assert got.loc["before", "positive"].tolist() == [2, 0, 0] and got.loc["before", "negative"].tolist() == [0, 1, 0]
    assert got.loc["during", "positive"].tolist() == [0, 1, 0] and got.loc["during", "negative"].tolist() == [1, 4, 0]
    assert got.loc["after", "positive"].tolist() == [1, 0, 0] and got.loc["after", "negative"].tolist() == [0, 0, 3]
    assert got.loc["during", "overload_episodes"].tolist() == [1, 4, 0]
    assert got.loc["before", "profession"].tolist() == ["social_work", "health_care", "health_care"]
    assert (df.run == "r").all() and (df.scenario == "x").all() and (df.seed == 7).all()
    side = df[list(LEDGER_POSITIVE)].sum(axis=1), df[list(LEDGER_NEGATIVE)].sum(axis=1)
    assert (side[0] == df.positive).all() and (side[1] == df.negative).all()


def test_snapshots_lacking_a_boundary_are_refused_naming_the_steps():
    snaps = _snapshots({3: {}, 10: {}})
    with pytest.raises(InputError, match=r"no snapshot at step 6; needed: steps 0, 3, 6, 10") as err:
        effects_from_snapshots(snaps, [0, 1, 1], [0, 0, 1], 4, 3, 10)
    assert "\n" not in str(err.value) and "output.snapshot_every=1" in str(err.value)


def test_effects_from_a_model_in_memory_add_up_to_its_ledger():
    cfg = Config(n_agents=40, n_groups=2, steps=12, seed=3)
    cfg.exposure.kind, cfg.exposure.start, cfg.exposure.length = "shock", 5, 4
    df = effects_from_model(cfg)
    assert set(df.period) == set(PERIODS) and len(df) == 3 * 40 and (df.run == "seed3").all()
    from sim.model import ResocializationModel

    model = ResocializationModel(cfg)
    for _ in range(cfg.steps):
        model.step()
    total = df.groupby("agent_id")[list(LEDGER)].sum()
    for k in LEDGER:
        assert total[k].tolist() == model.state.ledger[k].astype(int).tolist(), k


# ---------------------------------------------------------------- the observation model


def test_perfect_observers_of_professionals_with_both_effects_find_only_mixed_studies():
    corpus = draw_corpus(table(), Observation(studies=300, **PERFECT), np.random.default_rng(0))
    assert len(corpus) == 300 and (corpus["class"] == "mixed").all()
    assert (corpus.share_with_positive == 1).all() and (corpus.share_detected_negative == 1).all()


def test_observers_who_detect_nothing_find_nothing():
    obs = Observation(
        studies=300, sensitivity_qualitative=0, sensitivity_quantitative=0, sensitivity_other=0, false_positive=0
    )
    corpus = draw_corpus(table(), obs, np.random.default_rng(1))
    assert (corpus["class"] == "none").all()
    assert (corpus[["share_detected_positive", "share_detected_negative"]] == 0).all().all()
    assert (
        draw_corpus(table(), Observation(studies=100, examined=0), np.random.default_rng(1))["class"] == "none"
    ).all()


def test_unreported_negative_effects_leave_no_mixed_nor_only_negative_study():
    corpus = draw_corpus(table(), Observation(studies=400, report_negative=0), np.random.default_rng(2))
    assert set(corpus["class"]) <= {"only_positive", "none"} and (corpus["class"] == "only_positive").any()
    assert corpus.observed_negative.any() and not corpus.reported_negative.any()


def test_studies_not_looking_for_negative_effects_miss_them_at_the_unfocused_rate():
    effects = table(positive=0, negative=1)
    blind = Observation(studies=300, **{**PERFECT, "negative_focus": 0.0}, unfocused_sensitivity=0.0)
    assert (draw_corpus(effects, blind, np.random.default_rng(3))["class"] == "none").all()
    same = Observation(studies=300, **{**PERFECT, "negative_focus": 0.0}, unfocused_sensitivity=1.0)
    assert (draw_corpus(effects, same, np.random.default_rng(3))["class"] == "only_negative").all()


def test_salience_decides_who_has_an_effect():
    effects = table(positive=2, negative=1)
    corpus = draw_corpus(effects, Observation(studies=200, salience_positive=3, **PERFECT), np.random.default_rng(4))
    assert (corpus["class"] == "only_negative").all()
    shares = professional_shares(effects, Observation(salience_negative=2))
    assert shares["all"] == {"mixed": 0.0, "only_positive": 1.0, "only_negative": 0.0, "none": 0.0}


def test_an_effect_is_observed_when_its_detected_share_reaches_the_threshold():
    # 30 professionals, the first 9 of each run with a positive effect (30%); every study samples all 30
    effects = table(runs=1, groups=3, per_group=10, negative=0, profession="health_care")
    effects["positive"] = (effects.agent_id < 9).astype(int)
    sizes = {f"size_{m}_{d}": 30 for m in ("min", "max") for d in DESIGNS}
    base = dict(studies=100, health_care=1.0, social_work=0.0, group_share=0.0, **sizes, **PERFECT)
    at = draw_corpus(
        effects,
        Observation(**base, theme_share_qualitative=0.3, theme_share_quantitative=0.3, theme_share_other=0.3),
        np.random.default_rng(5),
    )
    assert (at.sample_size == 30).all() and (at.share_with_positive == 0.3).all()
    assert (at["class"] == "only_positive").all()
    above = Observation(**base, theme_share_qualitative=0.31, theme_share_quantitative=0.31, theme_share_other=0.31)
    assert (draw_corpus(effects, above, np.random.default_rng(5))["class"] == "none").all()


def test_group_studies_take_whole_groups_and_service_studies_individuals():
    # group 0: both effects; group 1: none; one profession, one run
    effects = table(runs=1, groups=2, per_group=10, profession="social_work")
    effects["positive"] = effects["negative"] = (effects.group == 0).astype(int)
    sizes = dict(
        size_min_qualitative=1,
        size_max_qualitative=10,
        size_min_quantitative=1,
        size_max_quantitative=10,
        size_min_other=1,
        size_max_other=10,
    )
    teams = draw_corpus(effects, Observation(studies=500, group_share=1.0, **sizes), np.random.default_rng(6))
    assert (teams.unit == "group").all() and set(teams.share_with_positive) == {0.0, 1.0}
    everyone = {k: 20 for k in ("size_min_quantitative", "size_max_quantitative")}
    service = draw_corpus(
        effects,
        Observation(studies=200, group_share=0.0, qualitative=0, quantitative=1, **everyone),
        np.random.default_rng(6),
    )
    assert (service.unit == "service").all() and (service.sample_size == 20).all()
    assert (service.share_with_positive == 0.5).all()
    teams20 = draw_corpus(
        effects,
        Observation(studies=50, group_share=1.0, qualitative=0, quantitative=1, **everyone),
        np.random.default_rng(6),
    )
    assert (teams20.share_with_positive == 0.5).all()  # both whole groups


def test_sample_sizes_are_capped_by_the_professionals_available():
    effects = table(runs=2, groups=3, per_group=4)
    obs = Observation(studies=2000)
    corpus = draw_corpus(effects, obs, np.random.default_rng(7))
    avail = available(effects, obs)
    cap = avail.loc[list(zip(corpus.run, corpus.period, corpus.profession, corpus.unit, strict=True))].to_numpy()
    assert (corpus.sample_size >= 1).all() and (corpus.sample_size <= cap).all()
    quant = corpus[corpus.design == "quantitative"]
    assert (quant.sample_size == cap[corpus.design == "quantitative"]).all()  # 50-400 wanted, fewer there


def test_settings_no_run_provides_are_never_drawn():
    effects = table(profession="health_care", periods=("during",))
    corpus = draw_corpus(effects, Observation(studies=500), np.random.default_rng(8))
    assert set(corpus.period) == {"during"} and set(corpus.profession) == {"health_care", "mixed"}
    with pytest.raises(InputError, match="no professional a virtual study could sample"):
        draw_corpus(effects, Observation(social_work=1.0, health_care=0.0), np.random.default_rng(8))


def test_design_and_period_shares_of_a_large_corpus_approach_their_weights():
    corpus = draw_corpus(table(), Observation(studies=20_000), np.random.default_rng(9))
    design = corpus.design.value_counts(normalize=True)
    assert design["qualitative"] == pytest.approx(0.37, abs=0.015)
    assert design["quantitative"] == pytest.approx(0.10, abs=0.01)
    assert design["other"] == pytest.approx(0.53, abs=0.015)
    period = corpus.period.value_counts(normalize=True)
    assert period["during"] == pytest.approx(0.45, abs=0.015) and period["after"] == pytest.approx(0.25, abs=0.015)
    assert (corpus.unit == "group").mean() == pytest.approx(0.5, abs=0.015)


def test_the_class_follows_the_reported_flags_and_reports_follow_observations():
    corpus = draw_corpora(
        table(positive=np.arange(180) % 3, negative=np.arange(180) % 2),
        Observation(),
        np.random.default_rng(10),
        corpora=20,
    )
    _check_consistent(corpus)
    assert set(corpus["class"]) >= {"mixed", "only_positive"}


def _check_consistent(corpus: pd.DataFrame) -> None:
    pos, neg = corpus.reported_positive, corpus.reported_negative
    expected = np.select([pos & neg, pos, neg], ["mixed", "only_positive", "only_negative"], "none")
    assert (corpus["class"] == expected).all()
    assert not (pos & ~corpus.observed_positive).any() and not (neg & ~corpus.observed_negative).any()
    assert not ((corpus.observed_positive | corpus.observed_negative) & ~corpus.examined).any()
    for col in ("share_with_positive", "share_with_negative", "share_detected_positive", "share_detected_negative"):
        assert corpus[col].between(0, 1).all(), col


def test_summary_shares_intervals_and_targets():
    s = summarize(table(positive=np.arange(180) % 3), Observation(), np.random.default_rng(11), corpora=50)
    assert sum(s["classes"][c]["share"] for c in CLASSES) == pytest.approx(1.0)
    other = s["classes"]["other"]["share"]
    assert other == pytest.approx(s["classes"]["only_negative"]["share"] + s["classes"]["none"]["share"])
    assert s["review"] == {"mixed": 0.39, "only_positive": 0.25, "other": 0.36}
    assert s["corpora"] == 50 and s["studies"] == 51 and s["runs"] == 2
    assert s["designs"]["qualitative"]["review"] == 0.37 and s["designs"]["other"]["review"] == pytest.approx(0.53)
    assert set(s["professionals"]) == {*PERIODS, "all"}
    # summarize draws what draw_corpora draws from the same generator state
    corpora = draw_corpora(table(positive=np.arange(180) % 3), Observation(), np.random.default_rng(11), corpora=50)
    mixed = corpora.groupby("corpus")["class"].apply(lambda c: (c == "mixed").mean())
    assert s["classes"]["mixed"]["share"] == pytest.approx(mixed.mean())
    assert s["classes"]["mixed"]["lo"] == pytest.approx(np.percentile(mixed, 5))


def test_summarize_is_fast_enough_for_a_calibration():
    import time

    effects = table(runs=20, groups=10, per_group=100, positive=np.arange(60_000) % 3, negative=np.arange(60_000) % 2)
    started = time.perf_counter()
    summarize(effects, Observation(), np.random.default_rng(0), corpora=200)
    assert time.perf_counter() - started < 5.0  # milliseconds in practice; minutes would mean a Python loop


# ---------------------------------------------------------------- properties


@st.composite
def cases(draw):
    runs = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 4))
    per_group = draw(st.integers(1, 8))
    periods = tuple(p for p in PERIODS if draw(st.booleans())) or ("during",)
    n = runs * len(periods) * groups * per_group
    effects = table(
        runs=runs,
        groups=groups,
        per_group=per_group,
        positive=np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))),
        negative=np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))),
        periods=periods,
    )
    effects["profession"] = draw(st.lists(st.sampled_from(["social_work", "health_care"]), min_size=n, max_size=n))
    effects["profession"] = effects.groupby(["run", "agent_id"])["profession"].transform("first")
    unit = st.floats(0, 1)
    lo = draw(st.integers(1, 30))
    obs = Observation(
        studies=draw(st.integers(1, 60)),
        group_share=draw(unit),
        examined=draw(unit),
        sensitivity_qualitative=draw(unit),
        sensitivity_other=draw(unit),
        false_positive=draw(unit),
        negative_focus=draw(unit),
        unfocused_sensitivity=draw(unit),
        theme_share_qualitative=draw(unit),
        report_negative=draw(unit),
        size_min_qualitative=lo,
        size_max_qualitative=lo + draw(st.integers(0, 30)),
        salience_positive=draw(st.integers(1, 3)),
    )
    return effects, obs, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_properties_of_any_corpus(case):
    effects, obs, seed = case
    corpus = draw_corpora(effects, obs, np.random.default_rng(seed), corpora=3)
    assert len(corpus) == 3 * obs.studies
    _check_consistent(corpus)
    cap = available(effects, obs).loc[list(zip(corpus.run, corpus.period, corpus.profession, corpus.unit, strict=True))]
    assert (corpus.sample_size.to_numpy() <= cap.to_numpy()).all() and (corpus.sample_size >= 1).all()
    assert corpus.equals(draw_corpora(effects, obs, np.random.default_rng(seed), corpora=3))  # same seed, same corpus
    s = summarize(effects, obs, np.random.default_rng(seed), corpora=7)
    assert sum(s["classes"][c]["share"] for c in CLASSES) == pytest.approx(1.0)
    for c, v in s["classes"].items():
        assert 0 <= v["lo"] <= v["median"] <= v["hi"] <= 1, c
        assert 0 <= v["share"] <= 1
    assert sum(v["share"] for v in s["designs"].values()) == pytest.approx(1.0)


# ---------------------------------------------------------------- the parameters


def test_bad_observation_values_are_refused_on_one_line_naming_the_key():
    cases = {
        "report_negative=1.5": "report_negative=1.5; allowed: a number in [0.0, 1.0]",
        "studies=0": "studies=0; allowed: an integer in [1, 100000]",
        "studies=2.5": "studies='2.5'; allowed: an integer",
        "sensitivity_other=nan": "sensitivity_other=nan",
        "qualitative=0.95": "quantitative=0.1; allowed: <= 1 - qualitative",
        "size_max_other=3": "size_max_other=3; allowed: >= size_min_other (10)",
    }
    for override, message in cases.items():
        with pytest.raises(ObservationError) as err:
            from_overrides([override])
        assert message in str(err.value) and "\n" not in str(err.value), override
    with pytest.raises(InputError, match="unknown observation parameter: 'nope'; allowed: studies, qualitative"):
        from_overrides(["nope=1"])
    with pytest.raises(InputError, match="invalid observation override: 'report_negative'"):
        from_overrides(["report_negative"])
    with pytest.raises(ObservationError, match="after"):
        Observation(before=0, during=0, after=0)
    obs = from_overrides(["studies=20", "report_negative=0.5", "salience_negative=2.0"])
    assert (obs.studies, obs.report_negative, obs.salience_negative) == (20, 0.5, 2)
    assert isinstance(obs.studies, int) and obs.period_weights == pytest.approx((0.3, 0.45, 0.25))


def test_every_parameter_has_a_row_with_its_default_range_and_source():
    rows = parameter_rows()
    assert [r["key"] for r in rows] == list(Observation.__dataclass_fields__)
    for r in rows:
        assert r["doc"] and r["source"] and getattr(Observation(), r["key"]) == r["default"]
    assert {r["key"]: r["default"] for r in rows if r["key"] in ("qualitative", "quantitative", "studies")} == {
        "studies": 51,
        "qualitative": 0.37,
        "quantitative": 0.10,
    }


def _doc_rows(text: str) -> dict[str, tuple[str, str]]:
    return {
        m[1]: (m[2].strip(), m[3].strip()) for m in re.finditer(r"^\| `(\w+)` \| ([^|]+) \| ([^|]+) \|", text, re.M)
    }


DOCS = [ROOT / "docs" / "review.md"]
if "## Observation: the virtual review" in (ROOT / "docs" / "ODD.md").read_text():  # once the section is merged
    DOCS.append(ROOT / "docs" / "ODD.md")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_the_docs_table_lists_every_parameter_with_its_default_and_range(doc):
    rows = _doc_rows(doc.read_text())
    for r in parameter_rows():
        assert r["key"] in rows, f"{doc.name} lacks a row for {r['key']}"
        default, allowed = rows[r["key"]]
        assert float(default) == pytest.approx(r["default"]), r["key"]
        assert allowed == r["range"], r["key"]
