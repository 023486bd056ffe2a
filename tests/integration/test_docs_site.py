"""The documentation site (mkdocs.yml, docs_hooks.py) builds with `mkdocs build --strict`, whole and offline.

The build renders the notebooks from SIM_DOCS_NOTEBOOKS, as `bash tasks.sh docs build` does with the copies it
executes at small settings (tests/support/notebooks.py; tests/e2e executes the same notebooks at the same
settings). Here the copies are the saved notebooks, one of them given outputs (a figure and a line of text), so
that the build takes seconds and still shows that the executed copies, not the saved ones, are rendered.
Every page of the navigation is built, every relative link and image of every page resolves to a file of
the site, and no page loads a script, a style sheet or a font from the network.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [  # the navigation of mkdocs.yml, as built (use_directory_urls: false)
    "index.html",
    "ODD.html",
    "metrics.html",
    "scenarios.html",
    "classics.html",
    "review.html",
    "sweeps.html",
    "guarantees.html",
    "viz.html",
    "api.html",
    "contributing.html",
    "notebooks/index.html",
]
MARK = "executed-copy-marker: 3 seeds"


class Refs(HTMLParser):
    """The URLs a page loads (scripts, style sheets, icons, images) and the ones it links to."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and a.get("src"):
            self.loads.append(a["src"])
        if tag == "link" and a.get("href"):
            self.loads.append(a["href"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        self._in_style = tag == "style"

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def _png() -> str:
    """A small PNG drawn by matplotlib, base64: the figure of the executed copy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1), dpi=20)
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _executed_copies(out: Path) -> None:
    """The saved notebooks as SIM_DOCS_NOTEBOOKS copies; forums.ipynb gets a figure and a text output."""
    nbformat = pytest.importorskip("nbformat")
    out.mkdir()
    for path in sorted((ROOT / "experiments").glob("*.ipynb")):
        shutil.copy(path, out / path.name)
    nb = nbformat.read(out / "forums.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=MARK + "\n"),
        nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"}),
    ]
    nbformat.write(nb, out / "forums.ipynb")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocs_jupyter")
    tmp = tmp_path_factory.mktemp("docs")
    _executed_copies(tmp / "notebooks")
    env = dict(os.environ, SIM_DOCS_NOTEBOOKS=str(tmp / "notebooks"), NO_MKDOCS_2_WARNING="1")
    out = tmp / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "WARNING" not in proc.stderr, proc.stderr[-4000:]
    return out


def test_every_page_and_notebook_is_built(site):
    notebooks = sorted(p.stem for p in (ROOT / "experiments").glob("*.ipynb"))
    assert len(notebooks) >= 8
    missing = [p for p in PAGES + [f"notebooks/{n}.html" for n in notebooks] if not (site / p).is_file()]
    assert not missing, missing
    for page in (ROOT / "docs").rglob("*.md"):
        assert (site / page.relative_to(ROOT / "docs").with_suffix(".html")).is_file(), page
    index = (site / "index.html").read_text()
    assert "Professional resocialization simulator" in index and 'src="figures/default_run.png"' in index
    api = (site / "api.html").read_text()
    for name in (
        "sim.model.ResocializationModel",
        "sim.config.params.Config",
        "sim.config.compose.compose",
        "sim.run.runner.run",
        "sim.studies.experiments.paired_effects",
    ):
        assert f'id="{name}"' in api, name  # rendered from the docstrings


def _nav_entries() -> list[str]:
    """Every page of mkdocs.yml's nav, in order, repeats included."""
    import yaml

    def entries(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, list):
            for item in node:
                yield from entries(item)
        elif isinstance(node, dict):
            for value in node.values():
                yield from entries(value)

    return list(entries(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]))


def test_every_page_is_in_the_navigation():
    """A page of docs/ or a notebook left out of mkdocs.yml's nav would be built but hidden from readers."""
    nav = set(_nav_entries())
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    notebooks = {f"notebooks/{p.name}" for p in (ROOT / "experiments").glob("*.ipynb")}
    assert pages | notebooks <= nav, sorted((pages | notebooks) - nav)
    import docs_hooks

    assert set(docs_hooks.PAGES.values()) <= nav


def test_no_page_is_listed_twice_in_the_navigation():
    """A page twice in nav is two entries for one page (mkdocs builds it once, under the last title)."""
    listed = _nav_entries()
    assert len(listed) == len(set(listed)), sorted({p for p in listed if listed.count(p) > 1})


def test_the_executed_copies_are_rendered_with_their_figures(site):
    figure = re.compile(r'<img[^>]*src="data:image/png;base64,')
    forums = (site / "notebooks" / "forums.html").read_text()
    assert MARK in forums and len(figure.findall(forums)) == 1
    assert "Executed for this site at the small settings of its test" in forums  # said on the page
    other = (site / "notebooks" / "professions.html").read_text()
    assert MARK not in other and not figure.findall(other)  # saved without outputs


def test_links_resolve_and_nothing_is_loaded_from_the_network(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= len(PAGES) + 8
    broken, remote = [], []
    for page in pages:
        refs = Refs()
        refs.feed(page.read_text())
        for url in refs.loads:
            if re.match(r"^(https?:)?//", url):
                remote.append((page.name, url))
        remote += [
            (page.name, u) for s in refs.styles for u in re.findall(r"url\((?:'|\")?((?:https?:)?//[^)'\"]+)", s)
        ]
        for url in refs.loads + refs.links:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or not parts.path:
                continue  # an external link (a citation's DOI) or an anchor on the page
            base = site if parts.path.startswith("/") else page.parent  # 404.html links from the site's root
            if not (base / unquote(parts.path).lstrip("/")).exists():
                broken.append((str(page.relative_to(site)), url))
    assert not remote, remote[:10]
    assert not broken, broken[:10]
    for css in site.rglob("*.css"):  # no web font or imported style sheet fetched by a style sheet
        assert not re.search(r"@import\s+url\((['\"])?https?:|url\((['\"])?https?://fonts", css.read_text()), css


def test_math_is_drawn_as_mathml(site):
    odd = (site / "ODD.html").read_text()
    assert odd.count("<math") > 100
    assert 'class="arithmatex"' not in odd and "\\(" not in odd  # every formula converted


def test_links_written_for_the_repository_point_at_the_site():
    """README.md links docs/ODD.md: the site links ODD.md; a file off the site keeps its text, loses its link."""
    from mkdocs.structure.files import File, Files

    import docs_hooks

    def page(src: str) -> File:
        return File(src, str(ROOT / "docs"), "/tmp/site", use_directory_urls=False)

    files = Files([page("ODD.md"), page("notebooks/forums.ipynb"), page("figures/default_run.png")])
    text = (
        "See [the ODD](docs/ODD.md#parameters), [forums](experiments/forums.ipynb), "
        "[`params.py`](sim/config/params.py), [gone](docs/nope.md) and ![fig](docs/figures/default_run.png).\n"
        "```\n[not a link](docs/ODD.md)\n```\n"
    )
    out = docs_hooks.rewrite_links(text, ROOT / "README.md", "index.md", files)
    assert out == (
        "See [the ODD](ODD.md#parameters), [forums](notebooks/forums.ipynb), "
        "`params.py`, gone and ![fig](figures/default_run.png).\n"
        "```\n[not a link](docs/ODD.md)\n```\n"
    )
    # from a page one level down (experiments/README.md is notebooks/index.md)
    out = docs_hooks.rewrite_links(
        "[r](../docs/ODD.md) [f](forums.ipynb)", ROOT / "experiments" / "README.md", "notebooks/index.md", files
    )
    assert out == "[r](../ODD.md) [f](forums.ipynb)"


def test_the_notebooks_come_from_sim_docs_notebooks(monkeypatch, tmp_path):
    import docs_hooks

    monkeypatch.delenv(docs_hooks.NOTEBOOKS_ENV, raising=False)
    saved = docs_hooks.notebooks()
    assert saved["notebooks/forums.ipynb"] == ROOT / "experiments" / "forums.ipynb"
    monkeypatch.setenv(docs_hooks.NOTEBOOKS_ENV, str(tmp_path))
    assert docs_hooks.notebooks()["notebooks/forums.ipynb"] == tmp_path / "forums.ipynb"
    assert set(docs_hooks.notebooks()) == set(saved)


def test_tasks_and_readme_name_the_docs_commands():
    tasks = (ROOT / "tasks.sh").read_text()
    assert "python -m mkdocs build --strict" in tasks and "python -m mkdocs serve" in tasks
    assert "python -m tests.support.notebooks" in tasks
    for doc in ("README.md", "CONTRIBUTING.md"):
        text = (ROOT / doc).read_text()
        assert "bash tasks.sh docs" in text and "bash tasks.sh docs build" in text, doc
