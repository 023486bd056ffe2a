"""Initialization (ODD 'Initialization'): network, professions, traits and stances from the config.

Each part draws from its own stream spawned from the model's generator (network, professions,
traits, stances), so changing, say, a trait distribution leaves the network and the stances as
they were (Beta draws consume a variable number of random numbers).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba as nb
import numpy as np

from sim.config.params import Config, TraitDist, sbm_probabilities, small_world_k
from sim.core import network, tiestore
from sim.core.pages import huge_pages, ordinary_pages
from sim.core.state import FRACTION, LEDGER, LEDGER_DTYPE, State, as_f64


def beta_draw(rng: np.random.Generator, dist: TraitDist, n: int) -> np.ndarray:
    a = dist.mean * dist.concentration
    b = (1.0 - dist.mean) * dist.concentration
    if b <= 0:  # mean 1: every agent at 1
        return np.ones(n)
    return rng.beta(a, b, size=n)


#: Below this many agents the initial Beta draws are made one after another (threads cost more than they save).
THREADED_DRAWS_FROM = 1 << 16


def beta_draws(jobs: list[tuple[np.random.Generator, TraitDist]], n: int) -> list[np.ndarray]:
    """`beta_draw(rng, dist, n)` of each (rng, dist), side by side on numba's thread count of threads.

    Each draw has a stream of its own, so its numbers do not depend on the others' or on the order they
    are drawn in: the same arrays as drawn one after another. numpy fills an array outside the GIL; at
    ten million agents each of the seven initial draws takes about 0.55 s (2-core AMD EPYC).
    """
    threads = min(len(jobs), nb.get_num_threads())
    if n < THREADED_DRAWS_FROM or threads < 2:
        return [beta_draw(rng, dist, n) for rng, dist in jobs]
    with ThreadPoolExecutor(threads, thread_name_prefix="sim-beta") as pool:
        return list(pool.map(lambda job: beta_draw(job[0], job[1], n), jobs))


def build_network(cfg: Config, rng: np.random.Generator, edge_list: network.EdgeList | None = None):
    """Ties, groups and (for user files) professions; professions None means 'draw them', -1 'draw this one'.

    `edge_list`: the user's network, already read (kind=edgelist; `sim.config.networkfiles`), so a caller
    that also needs its labels parses it once; read here if not given. A network without groups gets
    them as `network.groups` says: Louvain communities (`network.louvain_groups`, seeded from `rng`) or
    one group.
    """
    net = cfg.network
    if net.kind == "edgelist":
        el = edge_list if edge_list is not None else network.read_network(net)
        if el.group is not None:
            group = el.group
        elif net.groups == "louvain":
            group = network.louvain_groups(el.n_nodes, el.u, el.v, rng)
        else:
            group = np.zeros(el.n_nodes, dtype=np.int32)
        return el.u, el.v, group.astype(np.int32), el.profession.astype(np.int8)
    sizes = network.group_sizes(cfg.n_agents, cfg.n_groups)
    group = network.group_of_agents(sizes).astype(np.int32)
    if net.kind == "sbm":
        u, v = network.build_sbm(sizes, *sbm_probabilities(cfg), rng)
    elif net.kind == "complete":
        u, v = network.build_complete(cfg.n_agents)
    else:
        u, v = network.build_small_world(cfg.n_agents, small_world_k(cfg), net.beta, rng)
    return u, v, group, None


def assign_professions(cfg: Config, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each group has a home profession (groups split by share); agents take it with prob segregation."""
    pc = cfg.professions
    n_groups = int(group.max()) + 1
    home = (np.arange(n_groups) + 0.5 >= pc.share_social_work * n_groups).astype(np.int8)
    u = rng.random((2, len(group)))
    drawn = (u[1] >= pc.share_social_work).astype(np.int8)
    return np.where(u[0] < pc.segregation, home[group], drawn).astype(np.int8)


def initial_state(cfg: Config, rng: np.random.Generator, edge_list: network.EdgeList | None = None) -> State:
    """The model's state at t = 0, built on ordinary pages; its columns and tie store on huge ones (sim.core.pages)."""
    with ordinary_pages():
        return _initial_state(cfg, rng, edge_list)


def _initial_state(cfg: Config, rng: np.random.Generator, edge_list: network.EdgeList | None) -> State:
    net_rng, profession_rng, trait_rng, stance_rng = rng.spawn(4)
    # one stream per trait and profession: Beta draws consume a variable number of random numbers, so on a
    # shared stream changing one distribution (literacy training) would shift every later trait's draws
    trait_rngs = iter(trait_rng.spawn(6))
    if cfg.network.kind == "edgelist" and edge_list is None:
        edge_list = network.read_network(cfg.network)
    u, v, group, profession = build_network(cfg, net_rng, edge_list)
    n = len(group)
    if profession is None:
        profession = assign_professions(cfg, group, profession_rng)
    elif (profession < 0).any():  # a user's network that gives some professions: the others drawn
        profession = np.where(profession >= 0, profession, assign_professions(cfg, group, profession_rng))
        profession = profession.astype(np.int8)
    pc = cfg.professions
    dists = [pc.social_work, pc.health_care if pc.heterogeneous else pc.social_work]
    names = ("literacy", "trust", "critical")
    jobs = [(next(trait_rngs), getattr(dists[p], name)) for name in names for p in (0, 1)]
    *drawn, stance = beta_draws([*jobs, (stance_rng, _stance_dist(cfg))], n)
    traits = {
        name: np.where(profession == 0, drawn[2 * t], drawn[2 * t + 1]).astype(FRACTION) for t, name in enumerate(names)
    }
    if cfg.network.kind == "edgelist" and edge_list is not None:  # a user network's values (NaN: drawn)
        for name, given in edge_list.traits.items():
            traits[name] = np.where(np.isnan(given), traits[name], given).astype(FRACTION)
        if edge_list.stance is not None:
            stance = np.where(np.isnan(edge_list.stance), stance, edge_list.stance)
    ties = tiestore.from_edges(n, u, v, cfg.network.slack)
    del u, v  # the tie list: in the store now
    with huge_pages():  # the state's columns: the tie phases read them at random places (sim.core.pages)
        state = State(
            group=group.copy(),
            profession=profession.copy(),
            literacy=traits["literacy"].copy(),
            trust=traits["trust"].copy(),
            critical=traits["critical"].copy(),
            in_group_degree0=np.zeros(n, dtype=np.int32),
            stance=stance.copy(),
            engagement=traits["trust"].copy(),
            identity=np.full(n, cfg.identity.initial, dtype=FRACTION),
            load=np.zeros(n, dtype=FRACTION),
            overloaded=np.zeros(n, dtype=bool),
            withdrawn=as_f64(traits["trust"]) < cfg.attention.withdrawn_below,
            overload_withdrawn=np.zeros(n, dtype=bool),
            ledger={k: np.zeros(n, dtype=LEDGER_DTYPE) for k in LEDGER},
            ties=ties,
        )
    state.in_group_degree0 = state.in_group_degree().astype(np.int32)
    return state


def _stance_dist(cfg: Config) -> TraitDist:
    return TraitDist(cfg.stance.initial_mean, cfg.stance.initial_concentration)
