"""The documentation keeps up with the code: every parameter in the ODD table, every link alive."""

import re
from pathlib import Path

import pytest

from sim.config.params import Config, parameter_table

ROOT = Path(__file__).resolve().parents[2]


def _same(text: str, value) -> bool:
    if value is None:
        return text == "null"
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


def _normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_metrics_doc_agrees_with_the_catalog_of_metric_words_and_units():
    """docs/metrics.md gives the formulas, sim/metrics/catalog.py the labels and units: they agree."""
    from sim.metrics.catalog import CATALOG
    from sim.metrics.population import METRICS

    assert set(CATALOG) == set(METRICS)
    doc = (ROOT / "docs" / "metrics.md").read_text()
    families = {
        m.group(1): set(re.findall(r"`(\w+)`", m.group(2)))
        for m in re.finditer(r"^\| ([A-Z][\w ]+) \| (`.+) \|$", doc, re.M)
    }
    want: dict[str, set[str]] = {}
    for key, info in CATALOG.items():
        want.setdefault(info.family, set()).add(key)
    assert families == want
    # the definitions: bullets (a line starting "- " up to the next bullet or blank line)
    bullets = [_normalized(b) for b in re.split(r"\n(?=- )|\n\s*\n", doc) if b.startswith("- **")]
    for key, info in CATALOG.items():
        defs = [b for b in bullets if f"**`{key}`**" in b[:80]]
        assert defs, f"docs/metrics.md defines no {key}"
        ranges = [b for b in defs if re.search(rf"(Range|Integer) {re.escape(info.range)}", b)]
        assert ranges, (key, info.range, defs)
        assert info.label and info.unit and info.meaning and info.source


def test_summary_doc_lists_every_key_the_data_dictionary_describes():
    from sim.run.dictionary import RECOVERY_FIELDS, SUMMARY_FIELDS

    doc = (ROOT / "docs" / "metrics.md").read_text()
    table = doc[doc.index("### `summary.json`") :].split("\n\n")[1]
    listed = set(re.findall(r"`(\w+)`", table))
    assert set(SUMMARY_FIELDS) <= listed, set(SUMMARY_FIELDS) - listed
    assert set(RECOVERY_FIELDS) <= listed
