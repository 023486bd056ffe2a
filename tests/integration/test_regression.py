"""The project's regression guard: fixed small runs must give the committed values exactly.

A change meant to alter results updates tests/baselines/regression.json in its own commit, saying
why (`python -m tests.support.baselines --update`; CONTRIBUTING.md).
"""

from __future__ import annotations

import math

import pytest

from tests.support import baselines

EXPECTED = baselines.load()


def test_every_case_has_a_baseline():
    assert sorted(EXPECTED) == sorted(baselines.CASES)
    for case, overrides in baselines.CASES.items():
        assert EXPECTED[case]["overrides"] == overrides, f"{case}: overrides changed without updating the baseline"


@pytest.mark.parametrize("case", sorted(baselines.CASES))
def test_outputs_match_the_baseline(case):
    got, want = baselines.compute(case), EXPECTED[case]
    assert got["rows"] == want["rows"]
    moved = {k: (want["final"].get(k), v) for k, v in got["final"].items() if not _same(want["final"].get(k), v)}
    assert not moved, f"{case}: final metrics moved (baseline, now): {moved}"
    for table in baselines.TABLES:
        assert got[table] == want[table], f"{case}: the values of {table}.parquet changed"


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
