"""All of a step's random numbers, drawn up front from the model's generator.

The rules are then pure functions of (state, draws): that is what lets the per-agent reference
step and the vectorized step be compared result for result. Every array is drawn every step, in
a fixed order and with a shape that depends only on N, so switching a mechanism on or off never
shifts the random numbers of the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import MessagesConfig

UNIFORMS = (
    "peer",  # does a peer message arrive and get attended
    "peer_pick",  # which sender (engagement-weighted)
    "broadcast",  # does the broadcast arrive and get attended
    "forum",  # does a forum message arrive and get attended
    "exclude",  # is a dissenter excluded this step
    "exclude_pick",  # which in-group tie goes
    "rewire",  # does a dissenter try to rewire
    "rewire_pick",  # which agent outside the group is the candidate
    "form",  # does an agent propose a tie
    "form_scope",  # inside the group or anywhere
    "form_pick",  # which agent is proposed
)


@dataclass(frozen=True)
class Draws:
    u: dict[str, np.ndarray]  # uniforms on [0, 1), one per agent, keys UNIFORMS
    forum_content: np.ndarray  # stance of the forum message each agent may receive

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.u[name]
        except KeyError:
            raise AttributeError(name) from None


def draw(rng: np.random.Generator, n: int, messages: MessagesConfig,
         content_rng: np.random.Generator | None = None, e_t: float | None = None) -> Draws:
    """Draw a step's random numbers; forum content comes from its own stream (`content_rng`).

    Beta draws consume a variable number of random numbers, so on a separate stream the forum's
    parameters cannot shift the uniforms of later steps. Given the step's exposure `e_t`, content is
    drawn only for the agents whose forum uniform lets a message arrive at all (u < 1 - exp(-v_f),
    the chance before attention and the cap, which only lower it), in agent order; the others get
    NaN, which no rule reads. A Beta draw costs more than all the uniforms of an agent together.
    """
    block = rng.random((len(UNIFORMS), n))
    u = dict(zip(UNIFORMS, block, strict=True))
    a = messages.forum_mean * messages.forum_concentration
    b = (1.0 - messages.forum_mean) * messages.forum_concentration
    content_rng = rng if content_rng is None else content_rng
    if e_t is None:
        who = slice(None)
    else:
        v_f = messages.forum_rate * messages.porosity * e_t if messages.forum else 0.0
        who = np.flatnonzero(u["forum"] < -np.expm1(-v_f) * (1.0 + 1e-9))  # margin: never miss one
    forum = np.full(n, np.nan)
    size = n if e_t is None else len(who)
    forum[who] = content_rng.beta(a, b, size=size) if b > 0 else 1.0
    return Draws(u, forum)
