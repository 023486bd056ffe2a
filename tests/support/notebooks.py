"""The notebooks of experiments/ executed at small settings: for their tests and for the documentation site.

`small_settings(name, work)` gives the environment variables under which experiments/NAME.ipynb runs its
sweeps, calibration or sensitivity experiments at small settings (3 seeds of 120 agents, tiny definitions),
with every output under `work`; `execute(name)` runs the notebook top to bottom with nbclient and returns it
with its outputs. The tests in tests/e2e set the variables (monkeypatch) and assert on the result;
`python -m tests.support.notebooks OUT_DIR` (what `bash tasks.sh docs` runs) writes every executed notebook
to OUT_DIR/NAME.ipynb, which the documentation site renders (docs_hooks.py, SIM_DOCS_NOTEBOOKS).

A notebook runs its kernel with matplotlib's backend set as Jupyter sets it (`INLINE`, what ipykernel
puts in `MPLBACKEND`), so a figure shown with `plt.show()` becomes an output with `image/png` data, as
in Jupyter; with Agg it would show nothing, and neither would a notebook whose imports switched the
backend to Agg (issue 20, item 9).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.threads import child_env

INLINE = "module://matplotlib_inline.backend_inline"
ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"
# small settings of the experiment sweeps: the surge (steps 50-109) still ends 40 steps before the last step.
# Hydra's basic launcher runs them one after the other in the sweep's own process: a small run takes a
# fraction of a second, and joblib's two worker processes would each spend seconds importing the model first
# (the launchers themselves are tested in tests/integration/test_sweep.py).
SMALL = "n_agents=120 n_groups=4 steps=150 seed=range(0,3) hydra/launcher=basic"
SMALL_ABLATION = "n_agents=100 n_groups=4 steps=120 seed=range(0,2) hydra/launcher=basic"
TINY_CALIBRATION = {
    "name": "tiny_review",
    "model": [
        "scenario=pandemic_shock",
        "n_agents=80",
        "n_groups=4",
        "steps=40",
        "exposure.start=10",
        "exposure.length=10",
    ],
    "corpora": 3,
    "particles": 6,
    "generations": 2,
    "predictive": 4,
    "parameters": {"attention.capacity": [1.5, 4.0], "obs.examined": [0.3, 1.0]},
    "patterns": [
        {"stat": "review_mixed", "target": 0.39, "scale": 0.068, "why": "KF6"},
        {"stat": "review_other", "target": 0.36, "scale": 0.067, "why": "KF6"},
        {"stat": "engagement_gap", "below": 0.0, "scale": 0.01, "why": "KF12"},
    ],
}


def displayed_images(nb: Any) -> int:
    """How many outputs of the executed notebook `nb` carry an image (`image/png` data)."""
    return sum(
        "image/png" in output.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def rendered_images(nb: Any) -> int:
    """How many images the documentation site's page of the executed notebook `nb` shows.

    The page is made by mkdocs-jupyter's own converter with the options of mkdocs.yml (not executed
    again, no source), as `bash tasks.sh docs build` renders the executed copies: a figure the notebook
    shows must reach the site's page, not only the notebook.
    """
    import nbformat
    from mkdocs_jupyter.nbconvert2 import nb2html

    with tempfile.TemporaryDirectory(prefix="sim_nb_page_") as tmp:
        path = Path(tmp) / "notebook.ipynb"
        nbformat.write(nb, path)
        html = nb2html(str(path), execute=False, mathjax_version=2, show_input=False)
    return len(re.findall(r'<img[^>]*src="data:image/png;base64', html))


def notebook_names() -> list[str]:
    """The notebooks of experiments/, by name."""
    return sorted(p.stem for p in EXPERIMENTS.glob("*.ipynb"))


def _tiny_sensitivity(work: Path) -> Path:
    """Tiny definitions of the three headline experiments (two headlines of one arm: three small sweeps)."""
    import numpy as np
    import pandas as pd

    from tests.support.sensitivity import headlines_definition

    defs = work / "definitions"
    defs.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    post = pd.DataFrame(
        {"attention.capacity": rng.uniform(1.5, 4.0, 10), "ties.exclusion_rate": rng.uniform(0.02, 0.3, 10)}
    )
    post.assign(weight=0.1).to_parquet(work / "posterior.parquet")
    for name, method, n, design in (
        ("headlines_posterior", "posterior", 4, f"design: {work / 'posterior.parquet'}"),
        ("headlines_morris", "morris", 1, ""),
        ("headlines_sobol", "sobol", 2, ""),
    ):
        text = headlines_definition(name, method, n, "[profession_engagement_gap, profession_resister_gap]", design)
        (defs / f"{name}.yaml").write_text(text)
    return defs


def small_settings(name: str, work: Path) -> dict[str, str]:
    """The environment that runs experiments/NAME.ipynb at small settings, every output under `work`.

    Writes the tiny definitions the calibration and sensitivity notebooks read into `work`.
    """
    env = {"MPLBACKEND": INLINE}  # Jupyter's backend: a figure shown is an output
    if name == "classics":
        return env | {"CLASSICS_FIG_DIR": str(work), "CLASSICS_SMALL": "1"}
    if name == "review_calibration":
        import yaml

        definition = work / "tiny.yaml"
        definition.write_text(yaml.safe_dump(TINY_CALIBRATION))
        return env | {
            "SIM_CALIBRATION_DEFINITION": str(definition),
            "SIM_CALIBRATION_DIR": str(work / "calibration"),
            "SIM_CALIBRATION_WORKERS": "1",
        }
    if name == "sensitivity":
        return env | {
            "SIM_SENSITIVITY_DEFINITIONS": str(_tiny_sensitivity(work)),
            "SIM_SENSITIVITY_DIR": str(work / "sensitivity"),
        }
    small = SMALL_ABLATION if name == "ablation" else SMALL
    return env | {"SIM_EXPERIMENTS_DIR": str(work), "SIM_EXPERIMENT_OVERRIDES": small}


def execute(name: str, timeout: int = 600) -> Any:
    """Run experiments/NAME.ipynb top to bottom in a kernel that inherits this process's environment.

    Returns the notebook with its outputs (a cell that fails raises nbclient's CellExecutionError).
    """
    import nbclient
    import nbformat

    nb = nbformat.read(EXPERIMENTS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(EXPERIMENTS)}}
    )
    client.execute(env=child_env())  # the kernel: one numba thread under xdist
    return nb


def write_executed(out_dir: Path, names: list[str], missing_only: bool = False) -> list[Path]:
    """Execute each notebook at small settings into OUT_DIR/NAME.ipynb (written when complete)."""
    import nbformat

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        target = out_dir / f"{name}.ipynb"
        source = EXPERIMENTS / f"{name}.ipynb"
        if missing_only and target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        start = time.perf_counter()
        saved = dict(os.environ)
        with tempfile.TemporaryDirectory(prefix=f"docs-{name}-") as work:
            os.environ.update(small_settings(name, Path(work)))
            try:
                nb = execute(name)
            finally:
                os.environ.clear()
                os.environ.update(saved)
        partial = target.with_suffix(".ipynb.partial")
        nbformat.write(nb, partial)
        partial.replace(target)
        written.append(target)
        print(f"{name}: executed in {time.perf_counter() - start:.0f} s, {displayed_images(nb)} figures", flush=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.notebooks",
        description="Execute the notebooks of experiments/ at small settings into OUT_DIR (for the docs site).",
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("names", nargs="*", help="notebooks to execute (default: every one)")
    parser.add_argument("--missing", action="store_true", help="only those without an up-to-date executed copy")
    args = parser.parse_args(argv)
    known = notebook_names()
    unknown = [n for n in args.names if n not in known]
    if unknown:
        print(f"error: no notebook experiments/{unknown[0]}.ipynb; allowed: {', '.join(known)}", file=sys.stderr)
        return 2
    write_executed(args.out_dir, args.names or known, missing_only=args.missing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
