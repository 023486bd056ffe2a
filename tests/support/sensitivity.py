"""Tiny sensitivity experiments over the headline comparisons, for the integration and notebook tests."""

from __future__ import annotations

from pathlib import Path

from sim.config.errors import InputError

# the network these tiny experiments were designed with (fixed probabilities: at 60 agents in 2 groups the
# default mean degree would tie a third of each group, and no dissenter would lose enough ties to count)
SMALL_HEADLINES = [
    "n_agents=60",
    "n_groups=2",
    "network.p_in=0.1",
    "network.p_out=0.002",
    "steps=30",
    "exposure.start=10",
    "exposure.length=10",
]


def headlines_definition(name: str, method: str, n: int, headlines: str, design: str = "", parameters: str = "") -> str:
    """A definition (YAML) of a tiny headline experiment: 2 seeds, 60 agents, a surge of 10 steps.

    Its sweeps run on Hydra's basic launcher, in the sweep's own process: joblib's worker processes would
    each spend longer importing the model than the tiny runs take.
    """
    return f"""
name: {name}
method: {method}
N: {n}
seeds: [0, 1]
launcher: basic
{design}
overrides: [{", ".join(SMALL_HEADLINES)}]
parameters:
  attention.capacity: [1.5, 4.0]
  ties.exclusion_rate: [0.02, 0.3]
{parameters}
headlines: {headlines}
num_resamples: 100
"""


def assert_refused(tmp_path: Path, cases: dict[str, tuple[str, str]], check) -> None:
    """Each case's definition text, read by `check(path)`, raises an InputError containing its message."""
    import pytest  # here: headlines_definition also serves the docs build (tests/support/notebooks.py), without pytest

    for name, (text, message) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.yaml"
        path.write_text(text)
        with pytest.raises(InputError) as err:
            check(path)
        assert message in str(err.value), (name, str(err.value))
