"""numba's cache directory is named after the compiled modules' sources (sim/__init__.py).

numba recompiles a cached function only when its own file changes; the fused kernels of
sim/step/compiled.py inline rules from sim/step/attention.py and others. Naming the cache after a hash
of every compiled module means an edit to any rule starts a fresh cache, so the edited rule runs.
"""

import os
import shutil
from pathlib import Path

import numba

import sim
from sim.core import cache

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
    assert Path(sim.CACHE_DIR).name == f"numba-{sim._source_hash()}"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert Path(sim._cache_dir()) == tmp_path / f"numba-{sim._source_hash()}"


def test_only_the_packages_functions_are_cached_there(tmp_path):
    """The package's locator answers for its own files; numba's settings and a user's functions are untouched."""
    from sim.core import tiestore

    assert numba.config.CACHE_DIR == os.environ.get("NUMBA_CACHE_DIR", "")  # numba's own setting, as it was
    fn = tiestore.from_edges
    located = cache._PackageCacheLocator.from_function(fn, fn.__code__.co_filename)
    assert located is not None and Path(located.get_cache_path()).is_relative_to(sim.CACHE_DIR)
    user = tmp_path / "mine.py"
    user.write_text("def f(x):\n    return x + 1\n")
    namespace: dict = {}
    exec(compile(user.read_text(), str(user), "exec"), namespace)
    assert cache._PackageCacheLocator.from_function(namespace["f"], str(user)) is None  # numba's locators decide
    assert cache._LOCATORS[0] is cache._PackageCacheLocator and cache._LOCATORS.count(cache._PackageCacheLocator) == 1


def test_importing_the_package_imports_no_numba_and_the_kernels_install_the_locator():
    """A sweep's parent imports the package without numba; any compiled module brings the locator with it."""
    import subprocess
    import sys

    code = (
        "import sys, sim, sim.cli, sim.config.preflight; assert 'numba' not in sys.modules, 'numba imported';"
        "from sim.core import tiestore; from sim.core.cache import _LOCATORS, _PackageCacheLocator;"
        "assert _LOCATORS[0] is _PackageCacheLocator"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


LOAD_PROBE = """
import sys
from numba.core import base
calls = []
real = base.BaseContext.refresh
base.BaseContext.refresh = lambda self: (calls.append(type(self).__name__), real(self))[1]
import numpy as np
from sim.metrics.polarization import esteban_ray
from sim.core import kernels
x = np.random.default_rng(5).random(300)
print(repr(esteban_ray(x)), len(calls), {m: m in sys.modules for m in ("numba.typed.dictimpl",)})
"""


def test_the_packages_functions_load_from_the_cache_without_numbas_refresh(tmp_path):
    """A warm cache loads compiled code with numba's runtime only: the same value, no registries imported."""
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    run = [sys.executable, "-c", LOAD_PROBE]
    cold = subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout.split(maxsplit=2)
    warm = subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout.split(maxsplit=2)
    assert warm[0] == cold[0]  # the same value, bit for bit (repr of the float)
    assert int(cold[1]) > 0  # compiling refreshes numba's contexts
    assert int(warm[1]) == 0, "loading from the cache refreshed numba's target context"
    assert "False" in warm[2]  # numba's typed dict (among the refresh's imports) never imported


def test_other_packages_functions_load_as_numba_loads_them() -> None:
    from numba.core import caching

    assert caching.Cache.load_overload.__wrapped__ is cache._numba_load_overload
