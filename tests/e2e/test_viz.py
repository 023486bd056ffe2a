"""The teaching app (sim/viz): pure helpers, and the app itself in a real headless browser.

The browser test starts `python -m sim.viz` as a user would, drives Debian's chromium with
playwright, and fails on any request that does not load, any page error and any console error. The
server is started with an unreachable CDN, so a single asset not served from the local bundle fails
the test: the app works offline.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import classroom
from benchmarks.classroom import CHROMIUM, CHROMIUM_ARGS  # one chromium set-up for the browser tests
from sim.config.compose import compose
from sim.config.errors import InputError
from sim.config.params import Config, parameter_table
from sim.model import ResocializationModel
from sim.step.exposure import level
from sim.viz import controls as ctl
from sim.viz import layout as lay
from sim.viz.charts import CHARTS, chart_caption, chart_title, network_chart, network_counts, network_view
from sim.viz.explain import MECHANISMS, explanation_html
from sim.viz.history import SERIES, TeachingModel, exposure_schedule
from sim.viz.livechart import OptionStream, apply_patch, delta

ROOT = Path(__file__).resolve().parents[2]


def small(n: int = 120, groups: int = 4, **values) -> Config:
    return ctl.with_values(ctl.initial_config(), {"n_agents": n, "n_groups": groups, **values})


# --- layout ---------------------------------------------------------------------------------------


def test_layout_is_computed_once_and_stays_while_ties_change():
    cfg = small(**{"ties.exclusion_rate": 0.2, "ties.rewire_rate": 0.2})
    model = TeachingModel(cfg)
    pos = model.layout.copy()
    ties0 = model.state.ties.canonical()
    for _ in range(15):
        model.step()
    ties1 = model.state.ties.canonical()
    assert not (len(ties0["owner"]) == len(ties1["owner"]) and np.array_equal(ties0["nbr"], ties1["nbr"])), (
        "the ties should have changed in 15 steps with these rates"
    )
    assert np.array_equal(model.layout, pos)
    # the same config gives the same layout; another seed another one
    assert np.array_equal(TeachingModel(cfg).layout, pos)
    assert not np.allclose(TeachingModel(ctl.with_values(cfg, {"seed": 1})).layout, pos)


def test_layout_shows_groups_as_separate_clusters():
    group = np.repeat(np.arange(6), 40)
    pos = lay.group_layout(group, seed=3)
    assert pos.shape == (240, 2) and np.abs(pos).max() <= 1.0 + 1e-12
    labels, centres = lay.group_centres(pos, group)
    radius = max(np.linalg.norm(pos[group == g] - c, axis=1).max() for g, c in zip(labels, centres, strict=True))
    gaps = [np.linalg.norm(a - b) for i, a in enumerate(centres) for b in centres[i + 1 :]]
    assert min(gaps) > 2 * radius  # discs do not overlap
    assert len(np.unique(pos.round(9), axis=0)) == 240  # nobody sits on somebody else


def test_app_model_draws_the_same_numbers_as_the_model():
    """History and layout never touch the model's generator: the app runs the model, unchanged."""
    cfg = small()
    app, plain = TeachingModel(cfg), ResocializationModel(cfg)
    for _ in range(8):
        app.step()
        plain.step()
    assert np.array_equal(app.state.stance, plain.state.stance)
    assert np.array_equal(app.state.engagement, plain.state.engagement)


def test_history_keeps_one_row_per_step_from_the_metric_functions():
    cfg = small(**{"exposure.kind": "shock", "exposure.start": 3, "exposure.length": 4})
    model = TeachingModel(cfg)
    for _ in range(10):
        model.step()
    h = model.history
    assert h.steps == list(range(11))
    assert all(len(h.series[m]) == 11 for m in SERIES)
    assert h.series["stance_mean"][-1] == pytest.approx(model.state.stance.mean())
    assert h.series["withdrawn_share"][-1] == pytest.approx(model.state.withdrawn.mean())
    assert h.series["exposure"] == [level(t, cfg.exposure) for t in range(11)]
    ledger = sum(
        np.asarray(h.series[k]) for k in ("ledger_only_positive", "ledger_only_negative", "ledger_mixed", "ledger_none")
    )
    assert np.allclose(ledger, 1.0)
    t, e = exposure_schedule(cfg)
    assert t[-1] == cfg.steps and e[5] == cfg.exposure.baseline + cfg.exposure.height


def test_model_stops_after_the_configured_steps():
    model = TeachingModel(small(steps=3))
    for _ in range(3):
        assert model.running
        model.step()
    assert not model.running


# --- colours and ties -------------------------------------------------------------------------------


def test_stance_colour_scale_diverges_from_resisting_to_dominant():
    rgba = lay.stance_colors(np.array([0.0, 0.5, 1.0]))
    red, mid, blue = rgba[:, :3]
    assert red[0] > red[1] + 0.2 and red[0] > red[2] + 0.2  # 0: resisting is red
    assert blue[2] > blue[0] + 0.2 and blue[2] > blue[1] + 0.1  # 1: the dominant discourse is blue
    assert mid.min() > 0.85  # undecided is pale
    assert np.array_equal(lay.stance_colors(np.array([-0.2, 1.3])), lay.stance_colors(np.array([0.0, 1.0])))


def test_withdrawn_agents_are_hollow_with_a_ring_in_their_stance_colour():
    stance = np.array([0.05, 0.05, 0.95])
    face, edge = lay.node_style(stance, np.array([False, True, True]))
    rgba = lay.stance_colors(stance)
    assert np.allclose(face[0], rgba[0])  # engaged: filled
    assert face[1, :3].min() > 0.7 and face[2, :3].min() > 0.7  # withdrawn: a pale tint inside
    assert face[1, :3].mean() > face[0, :3].mean() + 0.4
    assert np.allclose(edge[1:, :3], rgba[1:, :3])  # ... with a ring in the stance colour


def test_muted_ties_are_hidden_and_sampling_is_stable():
    u, v = np.array([0, 0, 1, 2]), np.array([1, 2, 3, 3])
    mu, mv = np.array([False, True, False, False]), np.array([False, False, False, True])
    su, sv, shown, visible = lay.visible_ties((u, v, mu, mv))
    assert list(zip(su, sv, strict=True)) == [(0, 1), (1, 3)] and shown == visible == 2
    rng = np.random.default_rng(0)
    a = rng.integers(0, 1000, 20000)
    b = a + 1 + rng.integers(0, 1000, 20000)
    keep = lay.stable_sample(a, b, 2500)
    assert 2000 < keep.sum() < 3000
    # a tie kept stays kept when other ties change
    keep2 = lay.stable_sample(a[:15000], b[:15000], int(2500 * 15000 / 20000))
    assert np.mean(keep2 == keep[:15000]) > 0.99


def test_new_ties_are_this_steps_formed_and_rewired_ties():
    cfg = small(**{"ties.formation_rate": 0.5, "ties.rewire_rate": 0.3})
    model = TeachingModel(cfg)
    found = 0
    for _ in range(10):
        model.step()
        edges = model.state.ties.edges()
        nu, nv = lay.new_ties(model.last_report, edges)
        alive = set(zip(edges[0].tolist(), edges[1].tolist(), strict=True))
        assert set(zip(nu.tolist(), nv.tolist(), strict=True)) <= alive
        found += len(nu)
    assert found > 0
    assert len(lay.new_ties(None, edges)[0]) == 0


# --- controls from the schema --------------------------------------------------------------------------


def test_controls_carry_the_schema_ranges_defaults_and_meanings():
    rows = {r["key"]: r for r in parameter_table()}
    specs = ctl.control_specs()
    base = ctl.initial_config()
    assert [s.key for s in specs] == [k for _, keys in ctl.SECTIONS for k in keys]
    for s in specs:
        row = rows[s.key]
        assert (s.default, s.doc, s.unit) == (row["default"], row["doc"], row["unit"])
        assert (s.schema_lo, s.schema_hi, s.lo_open) == (row["lo"], row["hi"], bool(row["lo_open"]))
        if s.kind == "select":
            assert s.choices == tuple(row["choices"])
            continue
        if s.kind in ("bool", "seed"):
            continue
        lo, hi = row["lo"], row["hi"]
        assert lo is None or (s.min > lo if row["lo_open"] else s.min >= lo), s.key
        assert hi is None or s.max <= hi, s.key
        assert s.min < s.max and s.step > 0
        assert s.min <= s.default <= s.max, (s.key, s.default, s.min, s.max)  # the slider can show the default
        if s.key not in ctl.SPANS:  # no classroom span: exactly the schema's range
            assert (s.min, s.max) == (lo, hi), s.key
        # every slider end is a value the CLI accepts (with the other end of a rule tying two keys)
        companion = {
            "influence.acceptance": {"influence.rejection": 1.0},
            "influence.rejection": {"influence.acceptance": 0.0},
        }.get(s.key, {})
        for value in (s.min, s.max):
            assert ctl.problem(ctl.with_values(base, {s.key: value, **companion})) is None
    kinds = {s.key: s.kind for s in specs}
    assert kinds["influence.acceptance"] == "float" and kinds["n_agents"] == "int"
    assert kinds["exposure.kind"] == "select" and kinds["ties.exclusion"] == "bool"
    wanted = {
        "exposure.baseline",
        "exposure.height",
        "exposure.start",
        "exposure.length",
        "exposure.kind",
        "attention.capacity",
        "professions.social_work.critical.mean",
        "professions.health_care.critical.mean",
        "influence.acceptance",
        "influence.rejection",
        "ties.exclusion_rate",
        "ties.rewire_rate",
        "ties.homophily",
        "influence.hardening",
        "ties.asocial_exclusion",
        "attention.trust_dynamics",
        "messages.porosity",
        "n_groups",
        "n_agents",
        "seed",
    }
    assert wanted <= set(kinds)


def test_every_default_lies_on_its_sliders_steps():
    """Every control's default is a value its slider can take.

    A slider moves a value off its steps when it appears, so the page would open with settings 'changed'
    that nobody touched (attention capacity 3.4 on a 0.5 step did).
    """
    base = ctl.initial_config()
    for s in ctl.control_specs():
        if s.kind not in ("int", "float"):
            continue
        value = ctl.get_value(base, s.key)
        k = (value - s.min) / s.step
        assert abs(k - round(k)) < 1e-9, f"{s.key}: {value} is not on the steps {s.min} + k * {s.step}"


def test_pending_note_says_what_reset_would_change():
    base = ctl.initial_config()
    assert ctl.pending_note(base, base) is None
    note = ctl.pending_note(ctl.apply_preset(base, "pandemic_shock"), base)
    assert note is not None and "pandemic_shock" in note and "baseline" in note
    note = ctl.pending_note(ctl.with_values(base, {"attention.capacity": 1.5, "seed": 4}), base)
    assert note is not None and "attention capacity" in note and "1.5" in note and "seed 0" in note
    many = ctl.with_values(base, {"seed": 4, "n_agents": 300, "n_groups": 6, "steps": 100, "ties.homophily": 0.5})
    assert "and 2 more" in str(ctl.pending_note(many, base))
    invalid = ctl.with_values(base, {"influence.acceptance": 0.8, "influence.rejection": 0.5})
    assert ctl.pending_note(invalid, base) is None  # Reset would keep the run's settings; the sidebar says why


def test_invalid_combinations_get_the_cli_message():
    cfg = ctl.with_values(ctl.initial_config(), {"influence.acceptance": 0.8, "influence.rejection": 0.5})
    msg = ctl.problem(cfg)
    assert msg is not None and msg.startswith("invalid config: influence.rejection=0.5")
    assert ctl.with_values(cfg, {"n_agents": 250.4}).n_agents == 250  # cast to the field's type
    with pytest.raises(KeyError):
        ctl.with_values(cfg, {"influence.nope": 1})


def _cli_config(overrides: list[str]) -> Config:
    """The Config the command line composes (`python -m sim OVERRIDES --cfg job`)."""
    from omegaconf import OmegaConf

    out = subprocess.run(
        [sys.executable, "-m", "sim", *overrides, "--cfg", "job"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    merged = OmegaConf.merge(OmegaConf.structured(Config), OmegaConf.create(yaml.safe_load(out)))
    return OmegaConf.to_object(merged)


@pytest.mark.parametrize("name", ctl.scenario_names())
def test_scenario_presets_are_the_clis_configs(name):
    assert ctl.load_scenario(name) == _cli_config([f"scenario={name}"])


def test_preset_sets_every_control_but_keeps_the_class_size():
    current = ctl.with_values(
        ctl.initial_config(), {"n_agents": 300, "n_groups": 6, "seed": 7, "influence.acceptance": 0.1}
    )
    for name in ctl.scenario_names():
        out = ctl.apply_preset(current, name)
        preset = ctl.load_scenario(name)
        assert (out.n_agents, out.n_groups, out.seed) == (300, 6, 7)
        assert out.influence == preset.influence and out.exposure == preset.exposure
        assert out.scenario.name == name
    with pytest.raises(InputError):
        ctl.load_scenario("no_such_scenario")
    first = ctl.initial_config()
    assert (first.n_agents, first.n_groups) == (ctl.APP_SIZE["n_agents"], ctl.APP_SIZE["n_groups"])
    assert dataclasses.replace(first, n_agents=Config().n_agents, n_groups=Config().n_groups) == compose([])


# --- drawings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, groups", [(200, 5), (1000, 10)])
def test_views_are_data_the_browser_draws(n, groups):
    """Every view is an ECharts option (JSON, no NaN); the network carries each agent's position and colour."""
    model = TeachingModel(ctl.apply_preset(small(n, groups), "pandemic_shock"))
    for _ in range(5):
        model.step()
    options = {name: make(model) for name, make in CHARTS.items()} | {"network": network_chart(model)}
    for name, option in options.items():
        text = json.dumps(option, allow_nan=False)  # what goes to the browser: valid JSON
        assert len(text) < 400_000, name
    assert chart_title("histogram") == "Stance distribution"
    assert f"Step {model.state.t}" in chart_caption("histogram", model)
    assert all("title" not in option for option in options.values())  # the panel's heading is the title
    e_series = options["stance"]["series"][0]
    assert e_series["name"] == "exposure E(t)" and len(e_series["data"]) == model.cfg.steps + 1
    graph = options["network"]["series"][0]
    agents = graph["data"][:n]
    assert [a["name"] for a in agents] == [str(i) for i in range(n)]
    assert np.allclose([[a["x"], -a["y"]] for a in agents], model.layout * 100, atol=0.006)
    assert [a["value"] for a in agents] == pytest.approx(model.state.stance, abs=6e-4)
    hollow = [a["itemStyle"]["color"] == "#ffffff" or a["itemStyle"]["borderWidth"] > 1 for a in agents]
    assert hollow == model.state.withdrawn.tolist()
    assert {a["symbol"] for a in agents} <= {"circle", "rect"}
    counts = network_counts(model)
    assert len(graph["links"]) == counts["drawn"] + counts["new"] and counts["agents"] == n
    assert all(0 <= link["source"] < n and 0 <= link["target"] < n for link in graph["links"])
    assert len(graph["data"]) == n + groups  # one label per group


def test_edges_are_sampled_above_the_cap():
    model = TeachingModel(small(1000, 4))  # dense groups: many ties
    edges = model.state.ties.edges()
    u, v, shown, visible = lay.visible_ties(edges, cap=500)
    assert visible > 1000 and shown < 700 and len(u) == shown
    assert len(network_chart(model, edge_cap=500)["series"][0]["links"]) == shown + network_counts(model)["new"]


def test_a_step_sends_the_views_as_small_deltas_that_rebuild_them():
    """What the browser gets after a step: the points added and the items changed, never the history again.

    The network's step changes a few ties (spliced in and out) and the stance of the agents (each one's
    changed fields); a time plot gains points.
    """
    model = TeachingModel(small(200, 5, steps=300))
    views = {"network": lambda m: network_view(m)[0], **CHARTS}
    streams = {name: OptionStream() for name in views}
    shown = {
        name: json.loads(json.dumps(streams[name].update(make(model))["full"]["option"]))
        for name, make in views.items()
    }
    spliced = 0
    for _ in range(60):
        model.step()
        for name, make in views.items():
            msg = streams[name].update(make(model))
            assert "patch" in msg, name  # the structure of a view does not change from step to step
            patch = json.loads(json.dumps(msg["patch"], allow_nan=False))  # as the browser receives it
            assert patch["after"] == patch["seq"] - 1 == streams[name].seq - 1
            if name != "histogram":  # the distribution now is replaced; the time plots gain points
                assert len(json.dumps(patch)) < len(streams[name].current()) / 5, name  # a delta, not the option
            if name == "network":
                edits = patch["series"]["0"].get("edit", {})
                assert "set" not in patch["series"]["0"], "the network's nodes or ties were sent whole"
                spliced += "splice" in edits.get("links", {})
            # the browser's rule (livechart.vue, in Python): its copy equals the server's option
            apply_patch(shown[name], patch)
            assert shown[name] == json.loads(streams[name].current())["option"], name
    assert spliced > 30  # ties change on most steps


def test_a_changed_structure_resends_the_whole_option():
    a = {"series": [{"name": "x", "data": [[0, 1]]}], "xAxis": {"max": 10}}
    assert delta(None, a) is None
    assert delta(a, {"series": [], "xAxis": {"max": 10}}) is None  # a series fewer
    assert delta(a, {"series": [{"data": [[0, 1]]}], "xAxis": {"max": 10}}) is None  # a field gone
    grown = {"series": [{"name": "x", "data": [[0, 1], [1, 2]]}], "xAxis": {"max": 20}}
    assert delta(a, grown) == {"top": {"xAxis": {"max": 20}}, "series": {"0": {"append": [[1, 2]]}}}
    rewritten = {"series": [{"name": "x", "data": [[0, 3]]}], "xAxis": {"max": 10}}
    assert delta(a, rewritten) == {"top": {}, "series": {"0": {"edit": {"data": {"items": {"0": {"put": [0, 3]}}}}}}}
    other = {"series": [{"name": "x", "data": [[5, 6], [7, 8], [9, 9]]}], "xAxis": {"max": 10}}
    assert delta(a, other) == {"top": {}, "series": {"0": {"set": {"data": [[5, 6], [7, 8], [9, 9]]}}}}  # whole


def test_items_change_by_their_fields_and_a_changed_shape_replaces_the_item():
    same = [{"v": v, "style": {"c": "c"}} for v in range(3, 17)]  # 2 of 16 items change: sent by item
    old = {"series": [{"data": [{"v": 1, "style": {"c": "a", "w": 1}}, {"v": 2, "style": {"c": "b"}}, *same]}]}
    new = {"series": [{"data": [{"v": 1, "style": {"c": "z", "w": 1}}, {"v": 2, "style": {"c": "b", "w": 3}}, *same]}]}
    edit = delta(old, new)["series"]["0"]["edit"]["data"]["items"]
    assert edit == {"0": {"merge": {"style": {"c": "z"}}}, "1": {"put": new["series"][0]["data"][1]}}
    assert apply_patch(json.loads(json.dumps(old)), delta(old, new)) == new


@settings(max_examples=300, deadline=None)
@given(
    a=st.lists(st.integers(0, 40), unique=True, max_size=30),
    edits=st.lists(st.tuples(st.sampled_from("di"), st.integers(0, 30), st.integers(100, 140)), max_size=8),
)
def test_splices_rebuild_any_list_of_distinct_items(a, edits):
    """The edits that turn one list of ties into the next: applied in order, they give the new list exactly."""
    b = list(a)
    for op, at, value in edits:
        if op == "d" and b:
            b.pop(at % len(b))
        elif op == "i" and value not in b:
            b.insert(at % (len(b) + 1), value)
    old = {"series": [{"links": [{"s": x} for x in a], "k": 0}]}
    new = {"series": [{"links": [{"s": x} for x in b], "k": 0}]}
    change = delta(old, new)
    assert change is not None
    assert apply_patch(json.loads(json.dumps(old)), json.loads(json.dumps(change))) == new
    ops = change["series"].get("0", {}).get("edit", {}).get("links", {}).get("splice")
    if ops is not None:  # never more items sent than the edits inserted
        assert sum(len(items) for _, _, items in ops) <= sum(op == "i" for op, _, _ in edits)


def test_explanations_cite_the_review_and_load_nothing():
    html = explanation_html()
    for name, _, source in MECHANISMS:
        assert name.split()[0] in html
        assert re.search(r"KF\d+|policy implications", source)
    assert "<script" not in html and "http" not in html and "$" not in html  # no scripts, links or math


def test_command_line_defaults_to_localhost_and_a_free_port():
    from sim.viz.__main__ import free_port, parse_args

    args = parse_args([])
    assert args.host == "127.0.0.1" and args.port is None
    assert parse_args(["--port", "9001", "--host", "0.0.0.0"]).port == 9001
    assert 0 < free_port() < 65536


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # a traceback before (OverflowError, socket.gaierror); nan and inf passed the check of --release
        (["--port", "99999"], "argument --port: invalid port: 99999 (a whole number 1-65535)"),
        (["--port", "0"], "argument --port: invalid port: 0 (a whole number 1-65535)"),
        (["--host", "999.1.1.1"], "error: cannot listen on --host 999.1.1.1 ("),
        (["--release", "nan"], "error: --release=nan must be a number of seconds > 0"),
    ],
)
def test_a_bad_option_is_refused_in_one_line_before_the_app_starts(args, expected):
    proc = subprocess.run(
        [sys.executable, "-m", "sim.viz", *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip() and not line.startswith("usage:")]
    assert proc.returncode == 2 and len(lines) == 1 and expected in lines[0], proc.stderr
    assert "Teaching app running" not in proc.stdout


def test_the_model_never_imports_the_app():
    for path in (ROOT / "sim").rglob("*.py"):
        if "viz" in path.relative_to(ROOT / "sim").parts:
            continue
        assert "sim.viz" not in path.read_text(), path


# --- the app in a real browser ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    """`python -m sim.viz --port FREE` with no reachable CDN, shared by the browser tests; yields (url, log lines)."""
    from sim.viz.__main__ import RELEASE_S, free_port

    port = free_port()
    app = classroom.Server(port, None, RELEASE_S, extra_env={"SOLARA_ASSETS_CDN": "http://127.0.0.1:9/"})
    try:
        url = app.wait_url(timeout=90)
        assert url == f"http://127.0.0.1:{port}/", "".join(app.log)
        yield url, app.log, app.lines
    finally:
        app.stop()


def _time_text(page) -> str:
    return page.get_by_text(re.compile(r"^Time: ")).inner_text()


def _wait_time(page, steps: int, timeout: float = 20.0) -> float:
    """Wait until Mesa's step counter shows `steps`; return how long it took."""
    t0 = time.monotonic()
    page.get_by_text(f"Time: {float(steps)}", exact=True).wait_for(timeout=timeout * 1000)
    return time.monotonic() - t0


def _chart_pixels(page, name: str) -> str:
    return page.locator(f".sim-chart-{name} canvas").first.evaluate("c => c.toDataURL()")


def _network_src(page) -> str:
    return _chart_pixels(page, "network")


def _choose(page, select_class: str, option: str) -> None:
    page.locator(f".{select_class}").first.click()
    page.locator(".v-menu__content .v-list-item", has_text=option).first.click()


SIZES = ((1366, 768), (1920, 1080), (2560, 1440))
VIEW_PANELS = ("network", "stance", "histogram", "polarization", "withdrawal", "ledger")  # greyed when stale
PANELS = (*VIEW_PANELS, "explanations")

# Boxes of the titled panels: the main area's panels, Mesa's sidebar cards and ours, the app bar.
BOXES_JS = """() => {
  const boxes = [];
  const add = (el, name) => { const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) boxes.push({name, x: r.left, y: r.top, r: r.right, b: r.bottom}); };
  document.querySelectorAll('.sim-panel').forEach(el => add(el, el.className));
  document.querySelectorAll('.v-navigation-drawer .v-card').forEach(el =>
    add(el, 'sidebar card: ' + (el.querySelector('.v-card__title') || el).innerText.split('\\n')[0]));
  document.querySelectorAll('.sim-stale-banner, header.v-app-bar').forEach(el => add(el, el.className));
  return boxes;
}"""

# Text or boxes that do not fit: an element whose content overflows a box that hides or scrolls it, and
# any text or element of a panel that lies outside the panel (it would print over its neighbour).
CLIPPED_JS = """(selector) => {
  const out = [];
  const label = (n) => (n.nodeType === 3 ? JSON.stringify(n.textContent.trim().slice(0, 50))
                        : n.tagName + '.' + String(n.className).slice(0, 50));
  for (const root of document.querySelectorAll(selector)) {
    const R = root.getBoundingClientRect();
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let n = walker.currentNode; n; n = walker.nextNode()) {
      let b;
      if (n.nodeType === 3) {
        if (!n.textContent.trim() || !n.parentElement || !n.parentElement.checkVisibility()) continue;
        const range = document.createRange(); range.selectNodeContents(n); b = range.getBoundingClientRect();
      } else {
        if (!n.checkVisibility()) continue;
        const cs = getComputedStyle(n);
        b = n.getBoundingClientRect();
        const hides = (o) => o !== 'visible';
        if ((hides(cs.overflowX) && n.scrollWidth > n.clientWidth + 1) ||
            (hides(cs.overflowY) && n.scrollHeight > n.clientHeight + 1))
          out.push(`${label(root)}: ${label(n)} clips its content (${n.scrollWidth}x${n.scrollHeight} in ` +
                   `${n.clientWidth}x${n.clientHeight})`);
      }
      if (b.width === 0 && b.height === 0) continue;
      if (b.left < R.left - 1 || b.right > R.right + 1 || b.top < R.top - 1 || b.bottom > R.bottom + 1)
        out.push(`${label(root)}: ${label(n)} lies outside it (${Math.round(b.left)},${Math.round(b.top)},` +
                 `${Math.round(b.right)},${Math.round(b.bottom)} vs ${Math.round(R.left)},${Math.round(R.top)},` +
                 `${Math.round(R.right)},${Math.round(R.bottom)})`);
    }
  }
  return out;
}"""


def overlaps(boxes: list[dict]) -> list[str]:
    """Pairs of boxes that overlap by more than a pixel."""
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            w = min(a["r"], b["r"]) - max(a["x"], b["x"])
            h = min(a["b"], b["b"]) - max(a["y"], b["y"])
            if w > 1 and h > 1:
                found.append(f"{a['name']} and {b['name']} overlap by {w:.0f} x {h:.0f} px")
    return found


def layout_problems(page) -> list[str]:
    """Overlapping panels, clipped text, and panels that cannot be seen whole or reach past the window."""
    _scroll_to_top(page)
    problems = overlaps(page.evaluate(BOXES_JS))
    problems += page.evaluate(CLIPPED_JS, ".sim-panel, .sim-stale-banner, .v-navigation-drawer .v-card")
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    bar = page.locator("header.v-app-bar").first.bounding_box()
    top = bar["y"] + bar["height"] if bar else 0
    for name in PANELS:
        panel = page.locator(f".sim-panel-{name}").first
        panel.scroll_into_view_if_needed()
        box = panel.bounding_box()
        if box["x"] < 0 or box["x"] + box["width"] > width + 1:
            problems.append(f"{name} reaches past the window's width ({box['x']:.0f} to {box['x'] + box['width']:.0f})")
        if name != "explanations" and box["height"] > height - top:  # a text panel may be read by scrolling
            problems.append(f"{name} ({box['height']:.0f} px) is taller than the window shows ({height - top:.0f} px)")
        elif name != "explanations" and (box["y"] < top - 1 or box["y"] + box["height"] > height + 1):
            problems.append(
                f"{name} cannot be scrolled into full view (y {box['y']:.0f} to {box['y'] + box['height']:.0f})"
            )
    _scroll_to_top(page)
    if page.evaluate("document.documentElement.scrollWidth > innerWidth + 1"):
        problems.append("the page scrolls sideways")
    return problems


def _scroll_to_top(page) -> None:
    """Scroll the main area back to its top (as a page opens)."""
    page.evaluate(
        "() => { for (let e = document.querySelector('.sim-main'); e; e = e.parentElement) e.scrollTop = 0; }"
    )
    page.wait_for_timeout(100)


def _in_window(page, selector: str) -> bool:
    """Whether the element is wholly inside the window (no scrolling needed to read it)."""
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] >= 0


def _watch(page, problems: list[str], outside: list[str]) -> None:
    """Record failed requests, HTTP errors, page and console errors; block (and record) non-local requests."""
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console error: {m.text}") if m.type == "error" else None)
    page.route(
        re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"),
        lambda route: (outside.append(route.request.url), route.abort()),
    )


def _open(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=60_000)
    page.locator(".sim-chart-network canvas").first.wait_for(timeout=30_000)
    for name in CHARTS:
        page.locator(f".sim-chart-{name} canvas").first.wait_for(timeout=30_000)
    page.get_by_text("finding of the review").first.wait_for()


def _server_log(log: list[str], lines: queue.Queue) -> list[str]:
    while True:
        try:
            line = lines.get_nowait()
        except queue.Empty:
            return log
        if line:
            log.append(line)


def _browser(pw):
    return pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def _need_browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium): apt-get install -y chromium")
    return pytest.importorskip("playwright.sync_api").sync_playwright


def test_app_in_a_real_browser(server, tmp_path):
    sync_playwright = _need_browser()
    from sim.viz.app import TITLE

    url, log, lines = server
    problems: list[str] = []
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = _browser(pw)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        _watch(page, problems, outside)
        _open(page, url)
        step = page.get_by_role("button", name="Step", exact=True)
        assert _time_text(page) == "Time: 0.0"
        # a real title on the browser's tab, and no "Page 0" tab in the page
        assert page.title() == TITLE
        assert page.locator(".v-tab").count() == 0 and "page 0" not in page.locator("body").inner_text().lower()
        # nothing is pending before anyone touches a control (no slider moves its default when it appears)
        page.wait_for_timeout(500)
        assert page.locator(".sim-pending").count() == 0 and page.locator(".sim-stale").count() == 0
        net0, stance0 = _network_src(page), _chart_pixels(page, "stance")

        # move a slider: the setting waits for Reset, which applies it; meanwhile the run on screen is marked
        slider = page.locator(".sim-control-attention-capacity [role=slider]").first
        before = slider.get_attribute("aria-valuenow")
        slider.focus()
        for _ in range(4):
            page.keyboard.press("ArrowLeft")
        page.locator(".sim-pending").wait_for(timeout=10_000)
        assert float(slider.get_attribute("aria-valuenow")) == pytest.approx(float(before) - 4 * 0.1)
        page.locator(".sim-stale-banner", has_text="attention capacity").wait_for(timeout=10_000)

        # step several times: the counter, the network and the plots follow, each step well under a second
        latencies = []
        for k in range(1, 6):
            shown = _network_src(page)
            t0 = time.monotonic()
            step.click()
            _wait_time(page, k)
            page.locator(".sim-network-caption", has_text=f"Step {k} ").wait_for(timeout=10_000)
            page.wait_for_function(
                "([sel, old]) => document.querySelector(sel).toDataURL() !== old",
                arg=[".sim-chart-network canvas", shown],
                timeout=10_000,
            )
            latencies.append(time.monotonic() - t0)
        assert _network_src(page) != net0
        page.wait_for_timeout(300)
        assert _chart_pixels(page, "stance") != stance0
        print(f"\nbrowser: step click to redrawn page {', '.join(f'{x * 1000:.0f}' for x in latencies)} ms")
        assert sorted(latencies)[len(latencies) // 2] < 1.0

        # Reset applies the slider; then switch to the shock preset, which sets the controls at once
        page.get_by_role("button", name="Reset", exact=True).click()
        _wait_time(page, 0)
        page.locator(".sim-pending").wait_for(state="detached", timeout=10_000)
        page.locator(".sim-stale-banner").wait_for(state="detached", timeout=10_000)
        _choose(page, "sim-preset", "pandemic_shock")
        page.locator(".sim-control-exposure-kind", has_text="shock").wait_for(timeout=10_000)
        page.locator(".sim-pending").wait_for(timeout=10_000)
        page.get_by_role("button", name="Reset", exact=True).click()
        _wait_time(page, 0)
        page.locator(".sim-pending").wait_for(state="detached", timeout=10_000)
        for k in range(1, 3):
            step.click()
            _wait_time(page, k)
        # play runs on its own and never blocks the page; pause stops it
        page.get_by_role("button", name="▶", exact=True).click()
        page.wait_for_timeout(1500)
        page.get_by_role("button", name="❚❚", exact=True).click()
        page.wait_for_timeout(500)
        played = float(_time_text(page).removeprefix("Time: "))
        assert played >= 5, f"only {played} steps after 1.5 s of play"
        page.wait_for_timeout(500)
        assert float(_time_text(page).removeprefix("Time: ")) == played  # paused
        page.get_by_role("button", name="Reset", exact=True).click()
        _wait_time(page, 0)
        for k in range(1, 3):
            step.click()
            _wait_time(page, k)
        page.wait_for_timeout(500)
        assert "Traceback" not in page.locator("body").inner_text()
        shot = tmp_path / "viz_app.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000
        if os.environ.get("VIZ_SCREENSHOT"):  # the docs' screenshot (1920x1080): a run into the shock
            every = _set_render_interval(page, 9)
            for k in range(8):
                step.click()
                _wait_time(page, 2 + every * (k + 1), timeout=30)
            page.wait_for_timeout(800)
            assert not layout_problems(page)
            page.screenshot(path=os.environ["VIZ_SCREENSHOT"], full_page=False)
        browser.close()
    _server_log(log, lines)
    assert not outside, f"the page tried to reach the internet: {outside}"
    assert not problems, "\n".join(problems)
    assert not any("Traceback" in line or "Could not load URL" in line for line in log), "".join(log)


@pytest.mark.parametrize("width, height", SIZES)
def test_layout_at_common_window_sizes(server, tmp_path, width, height):
    """No titled panel overlaps another, no text is clipped, every panel can be reached; a preset switch shows.

    At each size: a screenshot of a fresh run (two steps), the boxes of the panels (network, plots,
    explanations; the sidebar's cards; the app bar) compared pairwise, every text and element of a panel
    inside it and none clipped by a box, and every panel reachable whole by scrolling the main area. Then
    a preset is chosen: the notice in the sidebar and the banner above the panels must be on screen without
    scrolling, the plots of the old run greyed and labelled, and the layout still sound; Reset clears it.
    `VIZ_SHOTS=DIR` also keeps the screenshots in DIR.
    """
    sync_playwright = _need_browser()
    url, log, lines = server
    problems: list[str] = []
    outside: list[str] = []
    keep = Path(os.environ["VIZ_SHOTS"]) if os.environ.get("VIZ_SHOTS") else None

    def shoot(page, name: str) -> None:
        path = tmp_path / f"viz_{width}x{height}{name}.png"
        page.screenshot(path=str(path))
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / path.name).write_bytes(path.read_bytes())

    with sync_playwright() as pw:
        browser = _browser(pw)
        page = browser.new_page(viewport={"width": width, "height": height})
        _watch(page, problems, outside)
        _open(page, url)
        step = page.get_by_role("button", name="Step", exact=True)
        for k in range(1, 3):
            step.click()
            _wait_time(page, k)
        page.wait_for_timeout(800)
        shoot(page, "")
        assert not (found := layout_problems(page)), "\n".join(found)

        _choose(page, "sim-preset", "pandemic_shock")
        page.locator(".sim-stale-banner", has_text="pandemic_shock").wait_for(timeout=10_000)
        page.locator(".sim-pending").wait_for(timeout=10_000)
        page.wait_for_timeout(800)
        shoot(page, "_preset")
        assert _in_window(page, ".sim-pending"), "the sidebar's 'press Reset' notice is not on screen"
        assert _in_window(page, ".sim-stale-banner"), "the banner above the panels is not on screen"
        for name in VIEW_PANELS:  # the old run's views are marked; the explanations hold for any run
            assert page.locator(f".sim-panel-{name}.sim-stale .sim-stale-badge").count() == 1, name
        assert page.locator(".sim-panel-explanations.sim-stale").count() == 0
        assert not (found := layout_problems(page)), "\n".join(found)

        page.get_by_role("button", name="Reset", exact=True).click()
        _wait_time(page, 0)
        page.locator(".sim-stale-banner").wait_for(state="detached", timeout=10_000)
        assert page.locator(".sim-stale").count() == 0 and page.locator(".sim-pending").count() == 0
        browser.close()
    _server_log(log, lines)
    assert not outside, f"the page tried to reach the internet: {outside}"
    assert not problems, "\n".join(problems)


def _set_render_interval(page, value: int) -> int:
    """Set Mesa's render interval (steps per Step click); returns the value the slider took."""
    slider = page.locator(".v-input", has_text="Render Interval").locator("[role=slider]").first
    slider.focus()
    while int(float(slider.get_attribute("aria-valuenow"))) < value:
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    return int(float(slider.get_attribute("aria-valuenow")))


def test_a_first_start_prints_the_url_before_compiling(tmp_path):
    """With an empty numba cache the app prints its URL while it compiles its kernels (in a thread)."""
    from sim.run.compilenote import READY
    from sim.viz.__main__ import RELEASE_S, free_port

    server = classroom.Server(free_port(), None, RELEASE_S, extra_env={"NUMBA_CACHE_DIR": str(tmp_path / "numba")})
    try:
        server.wait_url()
    finally:
        server.stop()
    url = next(i for i, x in enumerate(server.log) if x.startswith("Teaching app running at http://"))
    # the warm-up, compiling from an empty cache for about half a minute, prints READY when it is done:
    # the URL comes first (a blocking warm-up, as before, printed the URL only after it)
    assert not any(x.startswith(READY) for x in server.log[:url]), server.log
