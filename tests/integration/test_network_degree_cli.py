"""The command line sets a generated network by degree or by probability, never both (issue 20 item 8).

Each refusal is one line naming the key and the value, exit 2, and no run directory; a run set by degree
reports the probabilities it derived, and its mean degree, in summary.json and sim.log.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sim.config import preflight as pf
from sim.config.errors import InputError

NULL_P = ["network.p_in=null", "network.p_out=null"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["network.p_in=0.2", "network.mean_degree=8"],
            "network.p_in=0.2; allowed: no value with network.mean_degree given",
        ),
        (
            ["network.p_out=0.01", "network.in_group_share=0.5"],
            "network.p_out=0.01; allowed: no value with network.in_group_share given",
        ),
        (
            ["network.p_in=0.1", "network.p_out=0.002", "network.mean_degree=8"],
            "network.p_in=0.1; allowed: no value with network.mean_degree given",
        ),
        (["network=small_world", "network.k=8", "network.mean_degree=8"], "network.k=8; allowed: no value with"),
        (
            ["network=small_world", "network.k=10", "network.mean_degree=8"],
            "network.k=10; allowed: no value with network.mean_degree given",
        ),
        (["network=small_world", "network.in_group_share=0.5"], "no value with network.kind=small_world"),
        (["network=complete", "n_agents=50", "network.mean_degree=4"], "no value with network.kind=complete"),
        ([*NULL_P, "network.mean_degree=2000"], "network.mean_degree=2000.0; allowed: <= n_agents - 1 (999)"),
        ([*NULL_P, "n_groups=100", "network.mean_degree=100"], "the derived network.p_in would be"),
        ([*NULL_P, "network.in_group_share=1.5"], "network.in_group_share=1.5; allowed: [0.0, 1.0]"),
        ([*NULL_P, "network.mean_degree=0"], "network.mean_degree=0.0; allowed: > 0.0"),
        (["-m", "network.p_in=0.1", "network.mean_degree=4,8"], "allowed: no value with network.mean_degree given"),
    ],
)
def test_a_network_set_two_ways_or_out_of_range_is_refused_in_one_line(args, expected):
    with pytest.raises(InputError) as info:
        pf.preflight(args)
    assert expected in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_the_ways_that_set_it_once_pass():
    pf.preflight([*NULL_P, "network.mean_degree=8", "network.in_group_share=0.5", "n_agents=5000"])
    pf.preflight(["network.p_in=0.3", "network.p_out=0.01"])
    pf.preflight(["network=small_world", "network.k=null", "network.mean_degree=7"])
    pf.preflight(["network=small_world", "network.k=6"])
    pf.preflight(["preset=kozma_barrat", "n_agents=200", "n_groups=1"])  # the ER preset sets both probabilities


def test_the_command_line_refuses_before_writing_and_a_run_reports_its_derived_network(tmp_path):
    def sim(*args):
        return subprocess.run(
            [sys.executable, "-m", "sim", *args, "output.figure=false", "output.progress=off"],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )

    bad = sim(f"hydra.run.dir={tmp_path / 'bad'}", "network.p_in=0.2", "network.mean_degree=8")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "network.p_in=0.2" in bad.stderr
    assert not (tmp_path / "bad").exists()
    out = tmp_path / "run"
    ok = sim(f"hydra.run.dir={out}", "n_agents=400", "n_groups=4", "steps=1", *NULL_P, "network.mean_degree=6")
    assert ok.returncode == 0, ok.stderr
    net = json.loads((out / "summary.json").read_text())["network"]
    # 6 ties per agent, 0.846154 of them within: 400 x 6 x 0.846154 / 2 ties over 4 x 100 x 99 / 2 pairs, 6 digits
    assert net["derived"] == ["p_in", "p_out"] and net["p_in"] == float(f"{400 * 6 * 0.846154 / 2 / 19800:.6g}")
    assert net["expected_mean_degree"] == pytest.approx(6.0, rel=1e-5)
    assert abs(net["mean_degree"] - 6.0) < 0.7  # 1,200 ties expected: 4 sd of the mean degree is about 0.4
    line = next(x for x in ok.stdout.splitlines() if x.startswith("network sbm"))
    assert "p_in and p_out from mean degree 6, in-group share 0.846154" in line
    assert line in (out / "sim.log").read_text()
