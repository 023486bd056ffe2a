"""All of a step's random numbers, drawn up front from the model's generator.

The rules are then pure functions of (state, draws): that is what lets the per-agent reference
step and the compiled step be compared result for result. Every array is drawn every step, in
a fixed order and with a shape that depends only on N, so switching a mechanism on or off never
shifts the random numbers of the others.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import cast

import numba as nb
import numpy as np

from sim.config.params import MessagesConfig
from sim.core.kernels import jit

UNIFORMS = (
    "peer",  # does a peer message arrive and get attended
    "peer_pick",  # which sender (engagement-weighted)
    "broadcast",  # does the broadcast arrive and get attended
    "forum",  # does a forum message arrive and get attended
    "exclude",  # is a dissenter excluded this step; then (`given`) which in-group tie goes
    "rewire",  # does a dissenter try to rewire; then which agent outside the group is the candidate
    "form",  # does an agent propose a tie; then (`split`) inside the group or anywhere, and which agent
)
_FORUM = UNIFORMS.index("forum")

#: The largest float64 below 1: a uniform on [0, 1) never reaches 1, and neither may a rescaled one.
BELOW_ONE = float(np.nextafter(1.0, 0.0))


@jit(cache=True, nogil=True)
def given(u, p):
    """The uniform u of an event u < p, rescaled to a fresh uniform on [0, 1) for the choice that follows.

    Given u < p, u / p is uniform on [0, 1) and independent of the event (and stays below 1 in
    floating point), so a tie sub-phase draws one uniform per agent, not one for the event and one per
    choice: four uniform arrays fewer per step. Meaningful only where u < p (the event happened). The
    tie rules (`sim.step.ties`) call it in both forms of the step.
    """
    return u / p


@jit(cache=True, nogil=True)
def split(v, g):
    """A uniform v split at g: (v < g, a fresh uniform on [0, 1) inside the part v fell in)."""
    if v < g:
        return True, v / g
    return False, min((v - g) / (1.0 - g), BELOW_ONE)


@dataclass(frozen=True)
class Draws:
    u: dict[str, np.ndarray]  # uniforms on [0, 1), one per agent, keys UNIFORMS
    forum_content: np.ndarray  # stance of the forum message each agent may receive

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.u[name]
        except KeyError:
            raise AttributeError(name) from None


def draw(
    rng: np.random.Generator,
    n: int,
    messages: MessagesConfig,
    content_rng: np.random.Generator | None = None,
    forum_reach: float | np.ndarray | None = None,
) -> Draws:
    """Draw a step's random numbers from one stream (`rng`); forum content from `content_rng`.

    Beta draws consume a variable number of random numbers, so on a separate stream the forum's
    parameters cannot shift the uniforms of later steps. Given `forum_reach`, the chance that a forum
    message reaches each agent this step (`sim.step.exposure.forum_reach`: one value, or one per agent
    when attention makes it depend on the agent's engagement; before attending and the cap, which only
    lower it), content is drawn only for the agents whose forum uniform lies below it, in agent order;
    the others get NaN, which no rule reads. A Beta draw costs more than all the uniforms of an agent
    together.
    """
    return DrawSource(rng, n, content_rng, chunk=max(n, 1)).draw(messages, forum_reach)


class DrawSource:
    """A model's step draws: buffers reused from step to step, and one stream per chunk of agents.

    Up to `chunk` agents (65,536 by default) this is `draw` on the model's generator. Beyond, agents
    [c * chunk, (c + 1) * chunk) take their uniforms and forum content from streams spawned once
    from the model's generators (chunk 0 keeps the generators themselves), and the chunks are drawn
    on parallel threads: numpy releases the GIL while it fills an array. Which numbers an agent gets
    depends only on the seed, N and the chunk size, never on the number of threads; drawing 11
    uniforms per agent on one core was a quarter of a step at a million agents.
    """

    def __init__(
        self, rng: np.random.Generator, n: int, content_rng: np.random.Generator | None = None, chunk: int = 1 << 16
    ) -> None:
        content_rng = rng if content_rng is None else content_rng
        self.n, self.chunk = n, chunk
        k = max(1, -(-n // chunk))
        self.streams = [rng, *(rng.spawn(k - 1) if k > 1 else [])]
        self.content = [content_rng, *(content_rng.spawn(k - 1) if k > 1 else [])]
        self.block = np.empty((len(UNIFORMS), n))
        self.forum = np.empty(n)
        self._pool: ThreadPoolExecutor | None = None

    def reach_buffer(self) -> np.ndarray:
        """An array of N numbers to hold the forum reach handed to the next `draw` (no array of its own a step).

        It is the forum content's: `draw` reads each chunk's reach before writing that chunk's content.
        """
        return self.forum

    def draw(self, messages: MessagesConfig, forum_reach: float | np.ndarray | None = None) -> Draws:
        """The next step's draws (valid until the next call: the arrays are reused); arguments as `draw`."""
        fill = partial(self._fill, messages=messages, reach=forum_reach)
        if len(self.streams) == 1:
            fill(0)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max(1, min(len(self.streams), nb.get_num_threads())))
            list(self._pool.map(fill, range(len(self.streams))))
        return Draws(dict(zip(UNIFORMS, self.block, strict=True)), self.forum)

    def _fill(self, c: int, messages: MessagesConfig, reach: float | np.ndarray | None) -> None:
        lo, hi = c * self.chunk, min(self.n, (c + 1) * self.chunk)
        for row in self.block:  # row by row: the same numbers as one (rows, n) block from one stream
            self.streams[c].random(out=row[lo:hi])
        forum = self.forum[lo:hi]
        if isinstance(reach, np.ndarray):
            reach = reach[lo:hi]
        # with a margin, to miss no agent it can reach; scaled chunk by chunk: one array of N numbers fewer a
        # step (at ten million agents a fresh 80 MB mapping, 20,000 page faults, every step)
        who = slice(None) if reach is None else np.flatnonzero(self.block[_FORUM, lo:hi] < reach * (1.0 + 1e-9))
        # from here on this chunk's reach is not read: it may be `reach_buffer`, which the content overwrites
        size = hi - lo if reach is None else len(cast(np.ndarray, who))
        a = messages.forum_mean * messages.forum_concentration
        b = (1.0 - messages.forum_mean) * messages.forum_concentration
        forum.fill(np.nan)
        forum[who] = self.content[c].beta(a, b, size=size) if b > 0 else 1.0
