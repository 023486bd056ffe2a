"""Network-level results from a state or from a run's outputs alone (agents.parquet, edges.parquet).

A same-opinion community is a connected component of the graph that keeps only the ties joining
equal opinions (Holme & Newman 2006: in their final state every tie joins equal opinions, so the
communities are the components of the network). Isolated agents are communities of one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def community_sizes(stance: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sizes of the same-opinion communities, largest first."""
    x = np.asarray(stance)
    n = len(x)
    u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    keep = x[u] == x[v]
    graph = coo_matrix((np.ones(int(keep.sum())), (u[keep], v[keep])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    return np.sort(np.bincount(label))[::-1]


def largest_community_share(stance: np.ndarray, u: np.ndarray, v: np.ndarray) -> float:
    """S / N: the largest same-opinion community's share of the agents (Holme-Newman's order parameter)."""
    sizes = community_sizes(stance, u, v)
    return float(sizes[0] / len(stance)) if len(sizes) else 0.0


def component_sizes(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sizes of the network's connected components, largest first."""
    graph = coo_matrix((np.ones(len(u)), (np.asarray(u), np.asarray(v))), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    return np.sort(np.bincount(label))[::-1]


def final_from_outputs(run_dir: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(stance by agent id, tie sources, tie targets) at the last step of a run, from its files.

    Needs the last snapshot to hold every agent (output.snapshot_sample=1, the default).
    """
    run_dir = Path(run_dir)
    agents = pd.read_parquet(run_dir / "agents.parquet", columns=["step", "agent_id", "stance"])
    last = agents[agents["step"] == agents["step"].max()].sort_values("agent_id")
    if not np.array_equal(last["agent_id"].to_numpy(), np.arange(len(last))):
        raise ValueError("the last snapshot does not hold every agent (set output.snapshot_sample=1)")
    edges = pd.read_parquet(run_dir / "edges.parquet", columns=["source", "target"])
    return last["stance"].to_numpy(), edges["source"].to_numpy(), edges["target"].to_numpy()
