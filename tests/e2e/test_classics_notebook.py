"""experiments/classics.ipynb runs from top to bottom and draws the five classic figures.

It runs at the notebook's small settings (CLASSICS_SMALL=1: fewer agents, seeds and sweep points), as the
experiment notebooks do in tests/e2e/test_experiment_notebooks.py; every figure is still drawn, saved and
shown in the notebook (its kernel has Jupyter's matplotlib backend).
"""

from pathlib import Path

import pytest

from tests.support.notebooks import displayed_images, execute, rendered_images, small_settings

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "experiments" / "classics.ipynb"
FIGURES = {
    "deffuant_opinions_vs_d.png",
    "hk_trajectories.png",
    "ja_regime_map.png",
    "kb_clusters_vs_d.png",
    "hn_largest_community_vs_phi.png",
}


def test_notebook_is_saved_without_outputs():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
def test_notebook_executes_and_draws_every_figure(tmp_path, monkeypatch):
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # the kernel inherits them: figures go to CLASSICS_FIG_DIR (tmp_path), CLASSICS_SMALL=1 (fewer agents, seeds
    # and sweep points), Jupyter's matplotlib backend (a figure shown is an output)
    env = small_settings("classics", tmp_path)
    assert env["CLASSICS_FIG_DIR"] == str(tmp_path) and env["CLASSICS_SMALL"] == "1"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = execute("classics")
    assert {p.name for p in tmp_path.glob("*.png")} == FIGURES
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert displayed_images(nb) == len(FIGURES), "every figure saved is also shown in the notebook"
    assert rendered_images(nb) == len(FIGURES), "and on the documentation site's page of the notebook"
