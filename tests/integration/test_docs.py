"""The documentation keeps up with the code: every parameter in the ODD table, every link alive."""

import re
from pathlib import Path

import pytest

from sim.config.params import Config, parameter_table

ROOT = Path(__file__).resolve().parents[2]


def _same(text: str, value) -> bool:
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, (int, float)):
        return abs(float(text) - value) <= 1e-3 * max(1.0, abs(value))
    return True


def test_odd_lists_every_parameter_with_its_default():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    rows = {m.group(1): m.group(2).strip() for m in re.finditer(r"^\| `([\w.]+)` \| ([^|]+) \|", odd, re.M)}
    table = parameter_table(Config())
    missing = [r["key"] for r in table if r["key"] not in rows]
    assert not missing, f"docs/ODD.md lacks rows for {missing}"
    wrong = {r["key"]: (rows[r["key"]], r["default"]) for r in table if not _same(rows[r["key"]], r["default"])}
    assert not wrong, f"docs/ODD.md defaults differ from sim/config/params.py: {wrong}"


@pytest.mark.parametrize("doc", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))])
def test_relative_links_resolve(doc):
    text = (ROOT / doc).read_text()
    for target in re.findall(r"\]\((?!https?:|#|mailto:)([^)#\s]+)", text):
        assert (ROOT / doc).parent.joinpath(target).exists(), f"{doc} links to missing {target}"
