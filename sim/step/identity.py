"""Identity and ledger (ODD 4.5): identity clarity and the per-agent effect ledger.

Grounded in: identity work for oneself (clarifying one's professional identity) grows from
exchanges; the review counts studies with positive, negative and mixed effects, which the ledger
makes an output per agent. An engaged, non-overloaded agent with an accepted exchange gains clarity
g f(literacy) (1 - I); clarity decays at a constant rate (modelling choices). The ledger counts, per
agent, identity gains and ties gained (positive) and overload episodes, withdrawals and ties lost
(negative); counters saturate at LEDGER_MAX.

Numba-compiled scalar functions, called by the per-agent reference and the compiled step alike.
"""

from __future__ import annotations

from typing import Any

from sim.core.kernels import jit
from sim.core.state import LEDGER_MAX

_JIT: dict[str, Any] = {"cache": True, "nogil": True}


@jit(**_JIT)
def gains(n_accepted, withdrawn, overloaded, p):
    """Whether the agent gains identity clarity this step: an accepted exchange, engaged, not overloaded."""
    return p.identity and n_accepted > 0 and not withdrawn and not overloaded


@jit(**_JIT)
def next_identity(identity, gained, literacy_f, p):
    """Next identity clarity: gain g f(literacy) (1 - I) if gained, then decay (unchanged when off)."""
    if not p.identity:
        return identity
    g = min(1.0, p.gain * literacy_f)
    return (identity + g * (1.0 - identity) if gained else identity) * (1.0 - p.decay)


@jit(**_JIT)
def began(now, before):
    """An episode (overload, withdrawal) begins this step."""
    return now and not before


@jit(**_JIT)
def bump(counter, i):
    """Add one to counter[i], saturating at LEDGER_MAX (ledger counters are uint16)."""
    if counter[i] < LEDGER_MAX:
        counter[i] += 1
