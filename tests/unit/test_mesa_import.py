"""Mesa imported without its logging helpers' stack walks (sim.model.mesa_import): same loggers, inspect restored."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

PROBE = """
import json, sys
{setup}
import mesa.model
init = mesa.model.Model.__init__
print(json.dumps({{
    "logger": mesa.model._mesa_logger.name,
    "classname": [c.cell_contents for c in init.__closure__ if isinstance(c.cell_contents, str)],
}}))
"""


def _probe(setup: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE.format(setup=setup)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_mesa_names_its_logger_and_logged_class_as_when_imported_plainly() -> None:
    plain = _probe("")
    ours = _probe("import sim.model")
    assert ours == plain
    assert plain["logger"].endswith("mesa.model") and plain["classname"] == ["Model"]  # what is compared


def test_the_stack_functions_are_restored_and_answer_from_the_frames_meanwhile() -> None:
    from sim.model.mesa_import import frames_from_globals

    saved = inspect.stack, inspect.getouterframes, inspect.getmodule
    with frames_from_globals():
        here = inspect.stack()[0]
        assert here.function == "test_the_stack_functions_are_restored_and_answer_from_the_frames_meanwhile"
        assert here.filename == __file__ and here.lineno == inspect.currentframe().f_lineno - 2  # type: ignore[union-attr]
        assert inspect.getmodule(inspect.currentframe()) is sys.modules[__name__]
        assert inspect.getouterframes(inspect.currentframe())[0].function == here.function
        assert inspect.getmodule(json) is json  # anything but a frame: inspect's own answer
    assert (inspect.stack, inspect.getouterframes, inspect.getmodule) == saved
