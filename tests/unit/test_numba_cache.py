"""numba's cache directory is named after the compiled modules' sources (sim/__init__.py).

numba recompiles a cached function only when its own file changes; the fused kernels of
sim/step/compiled.py inline rules from sim/step/attention.py and others. Naming the cache after a hash
of every compiled module means an edit to any rule starts a fresh cache, so the edited rule runs.
"""

import shutil
from pathlib import Path

import numba

import sim

ROOT = Path(sim.__file__).resolve().parent


def _tree(tmp_path: Path) -> Path:
    copy = tmp_path / "sim"
    for sub in (*sim._COMPILED, "viz"):
        shutil.copytree(ROOT / sub, copy / sub, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_cache_follows_every_compiled_module(tmp_path, monkeypatch):
    copy = _tree(tmp_path)
    monkeypatch.setattr(sim, "_HERE", copy)
    before = sim._source_hash()
    assert sim._source_hash() == before  # deterministic
    rule = copy / "step" / "attention.py"
    rule.write_text(rule.read_text() + "\n# an edit to a rule\n")
    after_rule = sim._source_hash()
    assert after_rule != before  # an edited callee starts a new cache, not only an edited kernel file
    app = copy / "viz" / "app.py"
    app.write_text(app.read_text() + "\n# an edit outside the compiled modules\n")
    assert sim._source_hash() == after_rule  # the app holds no compiled code: the cache stays


def test_the_cache_directory_is_set_and_respects_numba_cache_dir(tmp_path, monkeypatch):
    assert Path(numba.config.CACHE_DIR).name == f"numba-{sim._source_hash()}"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert Path(sim._cache_dir()) == tmp_path / f"numba-{sim._source_hash()}"
