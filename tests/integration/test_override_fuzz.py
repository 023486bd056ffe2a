"""Every config is refused or runs cleanly (issue 19 item 4): random override sets over the whole schema.

Hypothesis draws sets of overrides: values in range, out of range, of the wrong type (text, empty,
inf, nan, 1e400, 10**12, null, lists), unknown keys, config-group options good and bad, and deletions
(`~KEY`), on top of a small run. For each set the command line's checks (`preflight`, in process) either accept it, and
then the run completes (`_complete.json` written; small sets are run in process through the runner the
command line calls), or refuse it with one line that names a key of the command line, having written
nothing. A few sets go through `python -m sim` itself: exit 0 with complete outputs, or exit 2, one
line on stderr, and no run directory. Derandomized, so CI draws the same sets every time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config.compose import compose_config
from sim.config.errors import InputError
from sim.config.params import parameter_table
from sim.config.preflight import estimate_bytes, expected_ties, group_options, preflight

ROOT = Path(__file__).resolve().parents[2]
HEADER = "source,target,source_group,target_group,source_profession,target_profession"
# a small run under every drawn set (each drawn key replaces its entry)
BASE = {
    "n_agents": "40",
    "n_groups": "4",
    "steps": "3",
    "output.figure": "false",
    "output.progress": "off",
    "output.snapshot_every": "1",
}
GROUPS = ("network", "exposure", "professions", "scenario", "preset", "ablation", "docking")
ROWS = {r["key"]: r for r in parameter_table()}
# keys whose valid values are kept small, so that accepted sets stay runs of a few seconds at most
SMALL = {
    "n_agents": st.integers(2, 80),
    "n_groups": st.integers(1, 12),
    "steps": st.integers(0, 6),
    "network.k": st.sampled_from([2, 4, 6, 8]),
    "preset.k": st.floats(0, 12),
    "preset.gamma": st.floats(1, 40),
    "exposure.start": st.integers(0, 8),
    "exposure.length": st.integers(0, 8),
    "metrics.every": st.integers(1, 4),
    "metrics.ledger_window": st.integers(0, 4),
    "output.snapshot_every": st.integers(0, 4),
    "seed": st.integers(0, 2**63 - 1),
}
# sizes far beyond what a run can hold: refused by their bound or by the memory check
HUGE = {"n_agents": ["10000000", "100000000", "2147483648"], "n_groups": ["100000000"], "steps": ["10000001"]}
WRONG_TYPE = ["abc", "", "null", "inf", "-inf", "nan", "1e400", "10**12", "[1,2]", "{a: 1}", "1.5", "yes"]
UNKNOWN = ["foo", "network.foo", "n_agents.x", "metrics.every.y", "professions.nurse.literacy.mean"]


def _num(x: float) -> str:
    return repr(float(x)) if isinstance(x, float) else str(x)


@st.composite
def value_for(draw, key: str) -> str:
    """A value for a schema key: mostly valid, else out of its range or of another type."""
    row = ROWS[key]
    default, lo, hi, choices = row["default"], row["lo"], row["hi"], row["choices"]
    kind = draw(st.sampled_from(["valid", "valid", "valid", "out", "wrong"]))
    if kind == "wrong":
        return draw(st.sampled_from(WRONG_TYPE))
    if isinstance(default, bool):
        return draw(st.sampled_from(["true", "false"] if kind == "valid" else ["2", "no", "True1"]))
    if choices:
        return draw(st.sampled_from(list(choices) if kind == "valid" else ["nope", "1", choices[0].upper()]))
    if isinstance(default, int | float) and kind == "out":
        outside = [x for x in (lo - 1 if lo is not None else None, hi + 1 if hi is not None else None) if x is not None]
        if row["lo_open"]:
            outside.append(lo)
        return _num(draw(st.sampled_from(outside))) if outside else draw(st.sampled_from(HUGE.get(key, ["-1"])))
    if key in HUGE and draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(HUGE[key]))
    if key in SMALL:
        return _num(draw(SMALL[key]))
    if isinstance(default, int):
        return str(draw(st.integers(lo, hi if hi is not None else lo + 20)))
    if isinstance(default, float):
        top = hi if hi is not None else lo + 10.0
        x = draw(st.floats(lo, top, allow_nan=False, exclude_min=bool(row["lo_open"])))
        return _num(x)
    return draw(st.sampled_from(["x", "baseline", "a.b-c_1"]))


@st.composite
def override_sets(draw, edge_list: Path) -> dict[str, str | None]:
    """The base run with one to four drawn overrides: schema keys, group options, unknown keys, deletions."""
    out = dict(BASE)
    for _ in range(draw(st.integers(1, 4))):
        what = draw(st.sampled_from(["key", "key", "key", "group", "unknown", "delete"]))
        if what == "key":
            key = draw(st.sampled_from(sorted(ROWS)))
            out[key] = draw(value_for(key))
        elif what == "group":
            group = draw(st.sampled_from(GROUPS))
            out[group] = draw(st.sampled_from([*group_options(group), "nope"]))
            if out[group] == "edgelist":  # with a file (good or missing), and without the sizes it sets
                out["network.path"] = draw(st.sampled_from([str(edge_list), "/no/such/file.csv"]))
                if draw(st.booleans()):
                    out.pop("n_agents", None)
                    out.pop("n_groups", None)
        elif what == "delete":  # Hydra's ~KEY (~KEY=VALUE: only if it holds VALUE): a key, a group, unknown
            key = draw(st.sampled_from([*sorted(ROWS), *GROUPS, *UNKNOWN]))
            out["~" + key] = draw(st.sampled_from([None, BASE.get(key, "1")]))
        else:
            out[draw(st.sampled_from(UNKNOWN))] = draw(st.sampled_from(["1", "abc"]))
    return out


@st.composite
def sweep_sets(draw) -> tuple[dict[str, str], str, list[str]]:
    """The base run with -m, perhaps a group option, and one schema key swept over two values (`key=a,b`)."""
    out = dict(BASE)
    if draw(st.booleans()):
        group = draw(st.sampled_from([g for g in GROUPS if g != "network"]))
        out[group] = draw(st.sampled_from(group_options(group)))
    key = draw(st.sampled_from(sorted(ROWS)))
    simple = value_for(key).filter(lambda v: v and not set(v) & set(",[]{}' "))  # what a sweep's syntax allows
    values = draw(st.lists(simple, min_size=2, max_size=2, unique=True))
    out[key] = ",".join(values)
    return out, key, values


def argv(overrides: dict[str, str | None]) -> list[str]:
    return [k if v is None else f"{k}={v}" for k, v in overrides.items()]


def _small(cfg) -> bool:
    """A run of well under a second (the edge list in use is the 30-agent ring; no figure, which takes one)."""
    ties = expected_ties(cfg)
    return cfg.n_agents <= 60 and cfg.steps <= 4 and not cfg.output.figure and (ties is None or ties <= 1000)


def assert_names_a_key(message: str, overrides: dict[str, str | None]) -> None:
    """One line that names a key of the command line (a rule between keys names them both).

    An input file's error names the file instead (and the line at fault), in its own form.
    """
    assert "\n" not in message, message
    assert not message.startswith("invalid config ("), f"a message of no form: {message}"  # the catch-all
    if message.startswith("invalid input file "):
        assert overrides.get("network.path") and overrides["network.path"] in message, message
        return
    keys = {k.split(".")[0] for k in overrides} | set(overrides)
    assert any(k and k in message for k in keys), (message, overrides)


@pytest.fixture(scope="module")
def edge_list(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("net") / "ring.csv"
    prof = ("social_work", "health_care")
    rows = [HEADER]
    for i in range(30):
        j = (i + 1) % 30
        rows.append(f"n{i},n{j},g{i // 10},g{j // 10},{prof[i % 2]},{prof[j % 2]}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_every_drawn_set_is_refused_in_one_line_or_runs_to_completion(tmp_path_factory, edge_list, monkeypatch):
    from sim.run.runner import run

    work, runs = tmp_path_factory.mktemp("work"), tmp_path_factory.mktemp("runs")
    monkeypatch.chdir(work)  # anything written by mistake would land here
    seen = {"accepted": 0, "ran": 0, "refused": 0}

    @settings(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", 120)),
        deadline=None,
        derandomize=not os.environ.get("FUZZ_RANDOM"),  # set it to explore beyond CI's fixed draws
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )
    @given(override_sets(edge_list))
    def check(overrides):
        try:
            preflight(argv(overrides))
        except InputError as err:
            seen["refused"] += 1
            assert_names_a_key(str(err), overrides)
            assert list(work.iterdir()) == [], "a refused config wrote something"
            return
        seen["accepted"] += 1
        cfg = compose_config(argv(overrides))  # what the command line composes, validated again (preflight: above)
        assert estimate_bytes(cfg) is None or sum(estimate_bytes(cfg).values()) > 0
        if _small(cfg):
            out = runs / f"run{seen['ran']}"
            run(cfg, out)
            assert (out / "_complete.json").exists() and (out / "summary.json").exists()
            seen["ran"] += 1

    check()
    # the draws cover both outcomes, and real runs among the accepted ones
    assert seen["refused"] >= 20 and seen["accepted"] >= 20 and seen["ran"] >= 12, seen


def test_every_drawn_sweep_is_refused_in_one_line_or_each_of_its_runs_composes(tmp_path, monkeypatch):
    """With -m, every run of the sweep is checked before any is launched: an accepted sweep's runs all compose."""
    monkeypatch.chdir(tmp_path)
    seen = {"accepted": 0, "refused": 0}

    @settings(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", 80)) // 3,
        deadline=None,
        derandomize=not os.environ.get("FUZZ_RANDOM"),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
        database=None,
    )
    @given(sweep_sets())
    def check(drawn):
        overrides, key, values = drawn
        try:
            preflight(["-m", *argv(overrides)])
        except InputError as err:
            seen["refused"] += 1
            assert_names_a_key(str(err), overrides)
            assert list(tmp_path.iterdir()) == [], "a refused sweep wrote something"
            return
        seen["accepted"] += 1
        for value in values:  # each run of the sweep, as the launcher's job composes it
            cfg = compose_config(argv({**overrides, key: value}))  # the preflight ran on the sweep above
            assert estimate_bytes(cfg) is None or sum(estimate_bytes(cfg).values()) > 0

    check()
    assert seen["refused"] >= 5 and seen["accepted"] >= 5, seen


@pytest.mark.slow
def test_the_command_line_itself_exits_0_with_complete_outputs_or_2_with_one_line(tmp_path_factory, edge_list):
    counts = {0: 0, 2: 0}

    @settings(
        max_examples=6,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )
    @given(override_sets(edge_list))
    def check(overrides):
        cwd = tmp_path_factory.mktemp("cli")
        run_dir = cwd / "run"
        try:
            preflight(argv(overrides))
            runnable = _small(compose_config(argv(overrides)))  # preflight ran on the line above
        except InputError:
            runnable = True  # refused: the command line must refuse it too, at once
        if not runnable:
            return  # accepted but large: not run here
        proc = subprocess.run(
            [sys.executable, "-m", "sim", *argv(overrides), f"hydra.run.dir={run_dir}"],
            cwd=cwd,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=300,
        )
        counts[proc.returncode] = counts.get(proc.returncode, 0) + 1
        if proc.returncode == 0:
            assert (run_dir / "_complete.json").exists(), proc.stderr
        else:
            lines = [line for line in proc.stderr.splitlines() if line.strip()]
            assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
            assert_names_a_key(lines[0], overrides)
            assert list(cwd.iterdir()) == [], "a refused config wrote something"

    check()
    assert counts[0] >= 1 and counts[2] >= 1, counts
