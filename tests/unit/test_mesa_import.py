"""Mesa as the model imports it (sim.model.mesa_import).

Without its logging helpers' stack walks (same loggers, inspect restored) and with its package `__init__`
deferred (every name there once used, none of its spaces before).
"""

from __future__ import annotations

import inspect
import json
import sys

from tests.support.python import last_line

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
    return json.loads(last_line(PROBE.format(setup=setup)))


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


NAMES = """
import json, sys, types
{setup}
import mesa, mesa.experimental


def described(module):
    out = {{}}
    for name in sorted(dir(module)):
        if name.startswith("__") and name not in ("__all__", "__version__"):
            continue
        value = getattr(module, name)
        if isinstance(value, types.ModuleType):  # deferred or not
            out[name] = ["module", value.__name__]
        else:
            out[name] = [type(value).__name__, getattr(value, "__module__", None), getattr(value, "__name__", None)]
    return out


print(json.dumps({{"mesa": described(mesa), "experimental": described(mesa.experimental)}}))
"""


def test_the_model_imports_none_of_mesas_spaces_nor_scipy_spatial_nor_networkx() -> None:
    loaded = json.loads(
        last_line(
            "import json, sys, sim.model\n"
            "print(json.dumps([m for m in ('scipy.spatial', 'networkx', 'mesa.discrete_space', 'mesa.space',"
            " 'mesa.batchrunner', 'mesa.experimental.continuous_space') if m in sys.modules]))"
        )
    )
    assert loaded == []


def test_every_name_of_mesa_is_there_as_after_a_plain_import_once_used() -> None:
    plain = json.loads(last_line(NAMES.format(setup="")))
    ours = json.loads(last_line(NAMES.format(setup="import sim.model")))
    assert ours == plain
    assert {"Agent", "Model", "DataCollector", "batch_run", "discrete_space", "space"} <= set(plain["mesa"])
    assert {"continuous_space", "devs", "mesa_signals", "meta_agents"} <= set(plain["experimental"])


def test_the_names_the_model_uses_are_mesas_own_and_the_rest_imports_on_first_use() -> None:
    out = last_line(
        "import sys, types, sim.model, mesa\n"
        "from sim.model import ResocializationModel\n"
        "import mesa.model, mesa.agent, mesa.datacollection\n"
        "checks = [issubclass(ResocializationModel, mesa.model.Model), mesa.Model is mesa.model.Model,\n"
        "          mesa.Agent is mesa.agent.Agent, mesa.DataCollector is mesa.datacollection.DataCollector,\n"
        "          'mesa.batchrunner' not in sys.modules, type(mesa) is not types.ModuleType]\n"
        "from mesa import batch_run\n"
        "import mesa.batchrunner\n"
        "checks += [batch_run is mesa.batchrunner.batch_run, mesa.batch_run is batch_run,\n"
        "           type(mesa) is types.ModuleType, mesa.__version__ == mesa.__dict__['__version__'],\n"
        "           mesa.space.MultiGrid.__module__ == 'mesa.space']\n"
        "print(checks)"
    )
    assert out == str([True] * 11)


def test_mesa_imported_before_the_model_is_left_as_it_is() -> None:
    out = last_line(
        "import sys, types, mesa, sim.model\nprint(type(mesa) is types.ModuleType, 'mesa.space' in sys.modules)"
    )
    assert out == "True True"
