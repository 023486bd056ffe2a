"""Packages with their `__init__` deferred (sim.core.deferred): once, on first use, as after a plain import."""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
from pathlib import Path

import pytest

from sim.core import deferred
from tests.support.python import last_line


def _package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, files: dict[str, str]) -> None:
    """A package `name` of `files` ({"__init__.py": text, ...}) on the path, none of its modules imported yet."""
    pkg = tmp_path / name
    pkg.mkdir()
    for file, text in files.items():
        (pkg / file).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in [name] + [f"{name}.{f.removesuffix('.py')}" for f in files if f != "__init__.py"]:
        monkeypatch.delitem(sys.modules, module, raising=False)


def test_a_deferred_package_runs_its_init_once_across_threads_and_again_after_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init = (
        "import os\n"
        "RUNS = int(os.environ.get('PROBE_RUNS', '0')) + 1\n"
        "os.environ['PROBE_RUNS'] = str(RUNS)\n"
        "if os.environ.get('PROBE_FAIL'):\n"
        "    raise RuntimeError('probe failed')\n"
        "VALUE = 42\n"
    )
    _package(tmp_path, monkeypatch, "deferred_probe", {"__init__.py": init, "part.py": "PART = 1\n"})
    monkeypatch.setenv("PROBE_FAIL", "1")
    monkeypatch.delenv("PROBE_RUNS", raising=False)
    assert deferred.defer("deferred_probe")
    module = sys.modules["deferred_probe"]
    part = importlib.import_module("deferred_probe.part")  # a submodule imports without the package's __init__

    assert part.PART == 1 and "PROBE_RUNS" not in os.environ
    with pytest.raises(RuntimeError, match="probe failed"):
        module.VALUE  # noqa: B018
    assert os.environ["PROBE_RUNS"] == "1"
    monkeypatch.delenv("PROBE_FAIL")
    barrier = threading.Barrier(8)
    seen: list[int] = []

    def read() -> None:
        barrier.wait()
        seen.append(module.VALUE)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [42] * 8
    assert os.environ["PROBE_RUNS"] == "2"  # once failed, then once for the eight threads
    assert type(module).__name__ == "module" and module.part.PART == 1


def test_names_given_come_from_their_modules_without_the_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init = "from deferred_named.part import Thing\nRAN = True\n"
    _package(tmp_path, monkeypatch, "deferred_named", {"__init__.py": init, "part.py": "class Thing:\n    pass\n"})
    assert deferred.defer("deferred_named", {"Thing": "deferred_named.part"})
    module = sys.modules["deferred_named"]
    assert module.Thing is sys.modules["deferred_named.part"].Thing
    assert "RAN" not in vars(module) and type(module) is deferred.DeferredPackage
    assert "RAN" in dir(module) and type(module).__name__ == "module"  # dir() runs the __init__
    assert not deferred.defer("deferred_named")  # already imported: left as it is
    assert not deferred.defer("json")  # not a package
    assert not deferred.defer("no_such_package_here.sub")  # not there at all: left to whoever imports it


def test_scipy_linalg_waits_for_a_name_while_the_model_runs_and_works_after() -> None:
    code = (
        "import json, sys, tempfile, types\n"
        "import numpy as np\n"
        "from sim.config.compose import compose\n"
        "from sim.run.runner import run\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        "    run(compose(n_agents=60, n_groups=3, steps=3, output={'figure': False}), d + '/r')\n"
        "linalg = sys.modules['scipy.linalg']\n"
        "during = [type(linalg) is not types.ModuleType, 'scipy.linalg.cython_blas' in sys.modules]\n"
        "import scipy.linalg\n"
        "values = scipy.linalg.eigh(np.diag([2.0, 1.0]))[0].tolist()\n"
        "print(json.dumps([during, values, type(linalg) is types.ModuleType, scipy.linalg is linalg]))"
    )
    assert json.loads(last_line(code)) == [[True, True], [1.0, 2.0], True, True]


def test_a_name_not_where_it_was_given_comes_from_the_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init = "from deferred_moved.new_home import Thing\n"
    _package(tmp_path, monkeypatch, "deferred_moved", {"__init__.py": init, "new_home.py": "class Thing:\n    pass\n"})
    assert deferred.defer("deferred_moved", {"Thing": "deferred_moved.old_home"})  # a module that is not there
    module = sys.modules["deferred_moved"]
    assert module.Thing.__module__ == "deferred_moved.new_home" and type(module).__name__ == "module"


def test_the_collections_t_quantile_is_scipys_without_the_rest_of_scipy_special() -> None:
    code = (
        "import json, sys, types\n"
        "import numpy as np\n"
        "from sim.studies.collect import t_half_width\n"
        "v = np.array([0.1, 0.4, 0.35, 0.2])\n"
        "ours = t_half_width(v)\n"
        "deferred = type(sys.modules['scipy.special']) is not types.ModuleType\n"
        "import scipy.stats\n"
        "theirs = float(scipy.stats.t.ppf(0.975, 3) * v.std(ddof=1) / 2)\n"
        "print(json.dumps([deferred, ours, theirs, type(sys.modules['scipy.special']) is types.ModuleType]))"
    )
    deferred_then, ours, theirs, plain_after = json.loads(last_line(code))
    assert deferred_then and plain_after
    assert ours == pytest.approx(theirs, rel=1e-12)
