"""mkdocs hooks of the documentation site (mkdocs.yml): the pages that live outside docs/, their links, math.

- README.md is the site's Getting started page (index.md), CONTRIBUTING.md its Contributing page, and
  experiments/ its Notebooks section: experiments/README.md and the definitions' READMEs as pages, every
  experiments/NAME.ipynb as notebooks/NAME.ipynb (rendered by mkdocs-jupyter). With SIM_DOCS_NOTEBOOKS set
  (`bash tasks.sh docs` sets it), the notebooks are read from that directory: the copies executed at small
  settings by `python -m tests.support.notebooks DIR`, with their outputs and figures; a notebook missing
  there stops a strict build. Without it the saved notebooks (no outputs) are rendered.
- Links are written for the repository (README.md links docs/ODD.md, docs/scenarios.md links
  ../experiments/forums.ipynb). Each relative link is resolved against the file it is written in and
  pointed at the site's page for that file; a link to a file that is not on the site (sim/config/params.py,
  conf/) keeps its text and loses the link. Links in the notebooks' Markdown cells are rewritten the same way.
- TeX math ($...$, kept as TeX by pymdownx.arithmatex) becomes MathML (latex2mathml), which browsers draw
  without a script: the site loads nothing from the network.
"""

from __future__ import annotations

import html
import logging
import os
import re
from pathlib import Path, PurePosixPath

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent
PAGES = {  # repository file -> site page, beside the Markdown files of docs/
    "README.md": "index.md",
    "CONTRIBUTING.md": "contributing.md",
    "experiments/README.md": "notebooks/index.md",
    "experiments/calibration/README.md": "notebooks/calibration.md",
    "experiments/sensitivity/README.md": "notebooks/sensitivity_definitions.md",
}
NOTEBOOKS_ENV = "SIM_DOCS_NOTEBOOKS"
LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(([^()\s]+)\)")
EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|#|/)", re.I)  # a scheme, an anchor, an absolute path
FENCE = re.compile(r"^(```|~~~)", re.M)
MATH = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)
log = logging.getLogger("mkdocs.hooks.docs")

_sources: dict[str, Path] = {}  # site page -> the repository file its links are written for


def notebooks() -> dict[str, Path]:
    """Site page -> file rendered, for every experiments/NAME.ipynb (the executed copy when asked for)."""
    executed = os.environ.get(NOTEBOOKS_ENV)
    out = {}
    for path in sorted((ROOT / "experiments").glob("*.ipynb")):
        src = ROOT / executed / path.name if executed else path  # a relative SIM_DOCS_NOTEBOOKS: from the root
        out[f"notebooks/{path.name}"] = src
    return out


@event_priority(100)  # before mkdocs-jupyter's on_files turns the notebooks into pages
def on_files(files: Files, config) -> Files:
    _sources.clear()
    for repo, page in PAGES.items():
        files.append(File.generated(config, page, abs_src_path=str(ROOT / repo)))
        _sources[page] = ROOT / repo
    for page, src in notebooks().items():
        if not src.exists():
            log.warning("%s: no executed notebook %s (run: python -m tests.support.notebooks DIR)", page, src)
            continue
        files.append(File.generated(config, page, abs_src_path=str(src)))
        _sources[page] = ROOT / "experiments" / PurePosixPath(page).name
    return files


def _site_page(target: Path, files: Files) -> str | None:
    """The site page (or asset) of the repository file `target`, or None if it is not on the site."""
    try:
        repo = target.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return None
    if repo in PAGES:
        return PAGES[repo]
    if repo.startswith("docs/"):
        page = repo.removeprefix("docs/")
        return page if files.get_file_from_path(page) is not None else None
    if repo.startswith("experiments/") and repo.endswith(".ipynb") and repo.count("/") == 1:
        page = f"notebooks/{repo.removeprefix('experiments/')}"
        return page if files.get_file_from_path(page) is not None else None
    return None


def _relative(page: str, target: str) -> str:
    return os.path.relpath(target, PurePosixPath(page).parent.as_posix() or ".").replace(os.sep, "/")


def link_target(href: str, source: Path, page: str, files: Files) -> str | None:
    """Where a relative link `href` written in `source` points on the site, seen from `page`; None: nowhere.

    Links with a scheme, absolute paths and bare anchors are returned unchanged.
    """
    if EXTERNAL.match(href):
        return href
    path, _, anchor = href.partition("#")
    site = _site_page(source.parent / path, files)
    if site is None:
        return None
    return _relative(page, site) + (f"#{anchor}" if anchor else "")


def rewrite_links(markdown: str, source: Path, page: str, files: Files) -> str:
    """Point the relative links of `markdown` (written in `source`) at the site; code blocks untouched."""

    def one(m: re.Match[str]) -> str:
        bang, text, href = m.groups()
        target = link_target(href, source, page, files)
        if target is None:
            return m.group(0) if bang else text  # an image off the site stays broken: strict reports it
        return f"{bang}[{text}]({target})"

    parts = FENCE.split(markdown)
    # FENCE.split gives text, marker, text, marker, ...: the text after an odd number of markers is code
    out, inside = [], False
    for i, part in enumerate(parts):
        if i % 2 == 1:
            out.append(part)
            inside = not inside
        else:
            out.append(part if inside else LINK.sub(one, part))
    return "".join(out)


def on_page_markdown(markdown: str, page, config, files: Files) -> str:
    source = _sources.get(page.file.src_uri, Path(page.file.abs_src_path or ROOT))
    return rewrite_links(markdown, source, page.file.src_uri, files)


def _notebook_html(content: str, page, files: Files) -> str:
    """A rendered notebook: its Markdown cells' links pointed at the site's pages, no script from the network.

    nbconvert writes the links as they are in the notebook (relative to experiments/, to .md files); they
    are resolved as in `rewrite_links` and pointed at the target page's URL. The MathJax script that
    nbconvert's template loads from a CDN is dropped (the notebooks' Markdown has no math).
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(content, "html.parser")
    for script in soup.find_all("script", src=re.compile(r"^(https?:)?//")):
        script.decompose()
    for a in soup.find_all("a", href=True):
        href = str(a["href"])
        target = link_target(href, _sources[page.file.src_uri], page.file.src_uri, files)
        if target is None:
            a.unwrap()
        elif not EXTERNAL.match(href):
            path, _, anchor = target.partition("#")
            dest = files.get_file_from_path(_resolve(page.file.src_uri, path))
            url = _relative(page.file.url, dest.url) if dest is not None else path
            a["href"] = url + (f"#{anchor}" if anchor else "")
    return str(soup)


def _resolve(page: str, relative: str) -> str:
    return os.path.normpath(os.path.join(PurePosixPath(page).parent.as_posix(), relative)).replace(os.sep, "/")


def _mathml(m: re.Match[str]) -> str:
    from latex2mathml.converter import convert

    tag, body = m.groups()
    tex = html.unescape(body).strip()
    display = "block" if tex.startswith("\\[") else "inline"
    tex = tex[2:-2] if tex[:2] in ("\\(", "\\[") else tex
    return convert(tex, display=display)


def _notebook_note() -> str:
    if os.environ.get(NOTEBOOKS_ENV):
        text = (
            "Executed for this site at the small settings of its test (<code>tests/support/notebooks.py</code>: "
            "a few seeds of a hundred-odd agents, tiny calibration and sensitivity definitions), so its numbers "
            "are not the experiment's results; those come from the full runs (<code>docs/results/</code>)."
        )
    else:
        text = "Shown as saved, without outputs: <code>bash tasks.sh docs</code> executes it at small settings."
    return f'<div class="admonition note"><p class="admonition-title">Note</p><p>{text}</p></div>'


def on_page_content(content: str, page, config, files: Files) -> str:
    if page.file.src_uri.endswith(".ipynb"):
        content = _notebook_note() + _notebook_html(content, page, files)
    return MATH.sub(_mathml, content)
