"""The step: the ODD's submodels as rules written once, and the two forms of the step that apply them.

    exposure.py, attention.py, influence.py, ties.py, identity.py
                   one module per ODD submodel (docs/ODD.md §4): each rule a small numba-compiled
                   function, callable from Python, with the finding it is grounded in
    records.py     the named records the rules take (every parameter; the tie arrays)
    reference.py   the per-agent step, one function per ODD phase: read it next to the ODD
    compiled.py    the same rules fused into a few parallel passes: the default

`STEPS` maps each value of the config key `implementation` to its step function; both map the same
state and draws to the same next state (tests/unit/test_equivalence.py).
"""

from __future__ import annotations

from sim.step.compiled import step_compiled
from sim.step.reference import step_reference

STEPS = {"compiled": step_compiled, "reference": step_reference}
