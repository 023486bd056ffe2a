"""The compiled metric kernels against their plain definitions: per-level polarization, cell sums, histogram."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.config.params import Config
from sim.core.report import EVENT_KINDS
from sim.metrics.polarization import opinion_assortativity, polarization_by_level, polarization_measures
from sim.metrics.population import (
    COUNT_METRICS,
    MEAN_METRICS,
    POLARIZATION_METRICS,
    indicators,
    scope_levels,
    scopes_metrics,
)
from sim.model import ResocializationModel
from sim.run.recorder import HIST_BINS, stance_histogram

# Stances with repeats (equal stances, one-value levels) and the ends of [0, 1].
_stance = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 0.02, 0.3, 0.5, 1.0]))


@st.composite
def partitions(draw):
    """Stances and 1-3 partitions of them; k may exceed the levels in use, leaving empty levels."""
    x = draw(hnp.arrays(np.float64, st.integers(0, 60), elements=_stance))
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        k = draw(st.integers(1, 6))
        level = draw(
            hnp.arrays(draw(st.sampled_from([np.int8, np.int32, np.int64])), x.size, elements=st.integers(0, k - 1))
        )
        parts.append((level, k))
    return x, parts


@settings(max_examples=80, deadline=None)
@given(partitions(), st.floats(0.0, 0.3), st.floats(0.0, 1.0), st.integers(1, 12), st.floats(0.0, 1.6))
def test_levels_match_one_call_per_level(data, gap, minor, bins, alpha):
    """Every level (empty, one agent, two, all equal, ...) gets exactly `polarization_measures` of its agents."""
    x, parts = data
    kw = {"cluster_gap": gap, "minor_share": minor, "bins": bins, "er_alpha": alpha}
    got = polarization_by_level(x, parts, **kw)
    assert len(got) == len(parts)
    for (level, k), table in zip(parts, got, strict=True):
        for lv in range(k):
            want = polarization_measures(x[level == lv], **kw)
            for key, val in want.items():
                np.testing.assert_array_equal(table[key][lv], val, err_msg=f"{key} level {lv}")


def test_big_and_small_levels_together():
    """A million-agent level next to many small ones (the threads share them) and the sorting threads."""
    rng = np.random.default_rng(5)
    x = rng.beta(0.4, 0.4, 300_000)
    group = rng.integers(0, 50, x.size).astype(np.int32)
    whole, groups = polarization_by_level(x, [(np.zeros(x.size, np.int8), 1), (group, 50)])
    for key, val in polarization_measures(x).items():
        assert whole[key][0] == val, key
    for lv in (0, 17, 49):
        for key, val in polarization_measures(x[group == lv]).items():
            assert groups[key][lv] == val, key


def test_level_validation():
    x = np.array([0.1, 0.2])
    with pytest.raises(ValueError):
        polarization_by_level(x, [(np.array([0, 2]), 2)])
    with pytest.raises(ValueError):
        polarization_by_level(x, [(np.array([0.0, 1.0]), 2)])
    with pytest.raises(ValueError):
        polarization_by_level(x, [(np.array([0]), 1)])


def _reference_scope(state, ind, events, scope, cfg):
    """The plain definitions: one weighted bincount per metric, one call per level, edge-list assortativity."""
    level, names = scope_levels(state, scope)
    level = level.astype(np.int64)
    k = len(names)
    counts = np.bincount(level, minlength=k).astype(float)
    total = {
        m: np.bincount(level, weights=np.asarray(ind[m], dtype=float), minlength=k) for m in (*MEAN_METRICS, "_deg0")
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {m: total[m] / counts for m in MEAN_METRICS}
        out["marginalized_of_dissenters"] = total["marginalized_share"] / total["dissenter_share"]
        lost = 1.0 - total["in_group_degree_mean"] / total["_deg0"]
        out["in_group_ties_lost_share"] = np.where(total["_deg0"] > 0, lost, np.nan)
    src, kind = events
    for name in COUNT_METRICS:
        code = EVENT_KINDS.index(name.removeprefix("ties_"))
        out[name] = np.bincount(level[src[kind == code]], minlength=k).astype(float)
    u, v, _, _ = state.ties.edges()
    for key in POLARIZATION_METRICS:
        out[key] = np.full(k, np.nan)
    for lv in range(k):
        for key, val in polarization_measures(
            state.stance[level == lv], cluster_gap=cfg.cluster_gap, minor_share=cfg.minor_share
        ).items():
            out[key][lv] = val
        inside = (level[u] == lv) & (level[v] == lv)
        out["assortativity"][lv] = opinion_assortativity(state.stance, u[inside], v[inside])
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_scope_metrics_match_the_plain_definitions(seed):
    cfg = Config(n_agents=400, n_groups=7, seed=seed)
    cfg.metrics.cluster_gap = 0.02
    model = ResocializationModel(cfg)
    for _ in range(3):
        model.step()
    state, report = model.state, model.last_report
    ind = indicators(state, report, cfg.metrics, cfg.ties.conformity)
    src, _, kind = report.event_table()
    scopes = ["all", "group", "profession"]
    for sv in scopes_metrics(state, (src, kind), ind, scopes, cfg.metrics, 1.0):
        want = _reference_scope(state, ind, (src, kind), sv.scope, cfg.metrics)
        for key, val in want.items():
            np.testing.assert_allclose(sv.values[key], val, rtol=1e-12, atol=1e-15, err_msg=f"{sv.scope} {key}")


def test_scope_metrics_do_not_depend_on_the_threads():
    cfg = Config(n_agents=3000, n_groups=9, seed=4)
    model = ResocializationModel(cfg)
    model.step()
    state, report = model.state, model.last_report
    src, _, kind = report.event_table()
    scopes = ["all", "group", "profession"]

    def run():
        ind = indicators(state, report, cfg.metrics, cfg.ties.conformity)
        return scopes_metrics(state, (src, kind), ind, scopes, cfg.metrics, 1.0)

    threads = numba.get_num_threads()
    many = run()
    numba.set_num_threads(1)
    try:
        one = run()
    finally:
        numba.set_num_threads(threads)
    for a, b in zip(many, one, strict=True):
        for key in a.values:
            np.testing.assert_array_equal(a.values[key], b.values[key], err_msg=f"{a.scope} {key}")


def test_records_reuse_their_working_arrays_and_measure_as_with_new_ones():
    """The second record of a state writes into the first one's working arrays; each equals a fresh state's."""
    cfg = Config(n_agents=500, n_groups=5, seed=3)
    model = ResocializationModel(cfg)
    scopes = ["all", "group", "profession"]
    kept = None
    for _ in range(2):
        for _ in range(3):
            model.step()
        state, report = model.state, model.last_report
        src, _, kind = report.event_table()
        got = scopes_metrics(
            state, (src, kind), indicators(state, report, cfg.metrics, cfg.ties.conformity), scopes, cfg.metrics, 1.0
        )
        fresh = state.copy()  # a copy starts without the scratch: new working arrays
        assert not fresh.scratch()
        want = scopes_metrics(
            fresh, (src, kind), indicators(fresh, report, cfg.metrics, cfg.ties.conformity), scopes, cfg.metrics, 1.0
        )
        for a, b in zip(got, want, strict=True):
            for key in a.values:
                np.testing.assert_array_equal(a.values[key], b.values[key], err_msg=f"{a.scope} {key}")
        arrays = {k: v[0] for k, v in state.scratch().items() if k.startswith("record_")}
        assert set(arrays) == {"record_arcs", "record_far", "record_sorted"}
        if kept is not None:
            assert all(arrays[k] is kept[k] for k in kept)  # the same arrays, not new ones
        kept = arrays


def test_polarization_by_level_refuses_a_working_array_it_cannot_use():
    x, level = np.array([0.1, 0.9, 0.5]), np.array([0, 1, 1])
    with pytest.raises(ValueError, match="at least 6"):
        polarization_by_level(x, [(level, 2), (level, 2)], out=np.empty(5))
    with pytest.raises(ValueError, match="float64"):
        polarization_by_level(x, [(level, 2)], out=np.empty(3, dtype=np.float32))


def test_stance_histogram_is_numpys():
    rng = np.random.default_rng(2)
    edges = np.linspace(0.0, 1.0, HIST_BINS + 1)
    cases = [
        rng.random(10_000),
        edges,
        np.nextafter(edges, 2.0),
        np.nextafter(edges, -1.0),
        np.array([0.0, 1.0, 1e-300, 0.15, 0.35, 0.85]),
        np.array([-0.1, 1.5, np.nan, 0.5]),
        np.zeros(0),
    ]
    for x in cases:
        want = np.histogram(x, bins=HIST_BINS, range=(0.0, 1.0))[0]
        np.testing.assert_array_equal(stance_histogram(x), want)
