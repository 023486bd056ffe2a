"""Pure helpers of the network view: a stable layout, the stance colours and which ties to draw.

The layout is computed once per model from its groups and `cfg.seed` (with its own numpy
Generator, so the model's `rng` is never touched): group centres on a circle, members of a group
on a sunflower (Vogel) spiral around its centre, in a seeded order. Positions depend only on the
groups, so they stay put while ties are cut, muted, formed and rewired.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Colormap

from sim.core.report import EVENT_KINDS

# Diverging stance scale: 0 = resisting (red), 1 = the dominant discourse (blue).
STANCE_CMAP = "RdBu"
NEW_TIE_KINDS = ("formed", "rewired")
EDGE_CAP = 2500  # ties drawn at most; above this a stable sample is shown
GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
LAYOUT_SEED_SALT = 0x5EED_1A70  # keeps the layout's stream apart from anything else seeded by cfg.seed


def stance_cmap() -> Colormap:
    return colormaps[STANCE_CMAP]


def stance_colors(stance: np.ndarray) -> np.ndarray:
    """RGBA per agent on the diverging scale (stance is clipped to [0, 1])."""
    return stance_cmap()(np.clip(np.asarray(stance, dtype=float), 0.0, 1.0))


def node_style(stance: np.ndarray, withdrawn: np.ndarray, fade: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Face and edge colours: engaged agents filled, withdrawn agents hollow (faded face, coloured ring)."""
    rgba = stance_colors(stance)
    face = rgba.copy()
    edge = np.tile(np.array([0.15, 0.15, 0.15, 0.9]), (len(rgba), 1))
    w = np.asarray(withdrawn, dtype=bool)
    face[w] = np.array([1.0, 1.0, 1.0, 1.0])
    face[w, :3] = 1.0 - fade * (1.0 - rgba[w, :3])  # a pale tint of the stance colour
    edge[w] = rgba[w]
    edge[w, 3] = 1.0
    return face, edge


def group_layout(group: np.ndarray, seed: int) -> np.ndarray:
    """Positions (N x 2) in [-1, 1]^2: one disc per group, discs on a circle, seeded order inside."""
    group = np.asarray(group, dtype=np.int64)
    n = len(group)
    pos = np.zeros((n, 2))
    if n == 0:
        return pos
    rng = np.random.default_rng([int(seed), LAYOUT_SEED_SALT])
    labels = np.unique(group)
    sizes = np.array([np.count_nonzero(group == g) for g in labels])
    radii = np.sqrt(sizes)  # a disc's area grows with its members
    k = len(labels)
    if k == 1:
        centres = np.zeros((1, 2))
    else:
        # circle big enough that neighbouring discs keep a gap
        need = (radii.max() * 2.0 * 1.15) / (2.0 * math.sin(math.pi / k))
        angle = math.pi / 2 - 2 * math.pi * np.arange(k) / k
        centres = need * np.column_stack([np.cos(angle), np.sin(angle)])
    for c, g, r in zip(centres, labels, radii, strict=True):
        members = np.flatnonzero(group == g)
        members = members[rng.permutation(len(members))]
        i = np.arange(len(members)) + 0.5
        rr = r * np.sqrt(i / len(members))
        theta = i * GOLDEN_ANGLE + rng.uniform(0, 2 * math.pi)
        pos[members] = c + np.column_stack([rr * np.cos(theta), rr * np.sin(theta)])
    span = np.abs(pos).max()
    return pos / span if span > 0 else pos


def group_centres(pos: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.unique(group)
    return labels, np.array([pos[group == g].mean(axis=0) for g in labels])


def stable_sample(u: np.ndarray, v: np.ndarray, cap: int) -> np.ndarray:
    """Mask keeping about `cap` ties, chosen by a hash of the pair: the same tie stays shown step after step."""
    m = len(u)
    if m <= cap:
        return np.ones(m, dtype=bool)
    h = (u.astype(np.uint64) * np.uint64(2654435761) + v.astype(np.uint64) * np.uint64(40503)) % np.uint64(2**32)
    return h < np.uint64(int(cap / m * 2**32))


def visible_ties(edges: tuple[np.ndarray, ...], cap: int = EDGE_CAP) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Ties to draw: alive and muted by neither side, sampled over `cap`; also (shown, visible) counts."""
    u, v, muted_uv, muted_vu = edges
    keep = ~(np.asarray(muted_uv, dtype=bool) | np.asarray(muted_vu, dtype=bool))
    u, v = np.asarray(u)[keep], np.asarray(v)[keep]
    sample = stable_sample(u, v, cap)
    return u[sample], v[sample], int(sample.sum()), len(u)


def new_ties(report, edges: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Ties formed or rewired this step that are still alive and unmuted (as u < v pairs)."""
    if report is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    src, dst, kind = report.event_table()
    codes = [EVENT_KINDS.index(k) for k in NEW_TIE_KINDS]
    pick = np.isin(kind, codes)
    a, b = np.minimum(src[pick], dst[pick]), np.maximum(src[pick], dst[pick])
    if len(a) == 0:
        return a.astype(np.int64), b.astype(np.int64)
    u, v, mu, mv = edges
    alive = ~(np.asarray(mu, bool) | np.asarray(mv, bool))
    n = max(int(np.max(u, initial=0)), int(np.max(b))) + 1
    alive_keys = np.asarray(u, np.int64)[alive] * n + np.asarray(v, np.int64)[alive]
    keys = a.astype(np.int64) * n + b.astype(np.int64)
    ok = np.isin(keys, alive_keys)
    keys = np.unique(keys[ok])
    return keys // n, keys % n
