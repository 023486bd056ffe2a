"""Identity and ledger (phase 5): identity clarity and the per-agent effect ledger.

Findings: identity work for oneself (clarifying one's professional identity) grows from
exchanges; the review counts studies with positive, negative and mixed effects (39% mixed, 25%
only positive), which the ledger makes an output. An engaged, non-overloaded agent with an
accepted exchange gains clarity g f(literacy) (1 - I); clarity decays at a constant rate.
"""

from __future__ import annotations

import numpy as np

from sim.params import AttentionConfig, IdentityConfig
from sim.state import add_saturating
from sim.submodels.attention import literacy_factor


def update_identity(identity, literacy, n_accepted, withdrawn, overloaded,
                    cfg: IdentityConfig, attention: AttentionConfig):
    """Next identity clarity and who gained this step."""
    if not cfg.enabled:
        return identity.copy(), np.zeros(len(identity), dtype=bool)
    gained = (n_accepted > 0) & ~withdrawn & ~overloaded
    g = np.minimum(1.0, cfg.gain * literacy_factor(literacy, attention.literacy_effect))
    new = np.where(gained, identity + g * (1.0 - identity), identity)
    return new * (1.0 - cfg.decay), gained


def count_transitions(ledger, gained, overloaded, was_overloaded, withdrawn, was_withdrawn) -> None:
    """Add this step's identity gains, new overload episodes and new withdrawals to the ledger."""
    add_saturating(ledger["identity_gains"], gained)
    add_saturating(ledger["overload_episodes"], overloaded & ~was_overloaded)
    add_saturating(ledger["withdrawals"], withdrawn & ~was_withdrawn)
