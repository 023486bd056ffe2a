"""The Deffuant and Hegselmann-Krause presets against NDlib on the same graph, parameters and start.

What one step / one `iteration()` does (NDlib 6.0.1 source, ndlib/models/opinions/):

* Deffuant preset vs `AlgorithmicBiasModel` with gamma = 0: both do N pairwise interactions in sequence, a
  uniform agent and a uniform neighbour (gamma = 0 makes every selection weight 1), moving both when closer than
  epsilon = d (strict, both). NDlib always moves them to their average, so the preset runs with mu = 0.5. Time
  per step = time per N interactions: the ratio is also the ratio per interaction.
* Hegselmann-Krause preset vs `HKModel`: not the same dynamics. Our step updates all N agents synchronously
  (mean over self and the neighbours within <= epsilon). NDlib's iteration draws N agents one at a time (with
  replacement) and computes each one's mean over its neighbours within < epsilon, self excluded; the assignment
  `actual_status[n1] = new_op` sits after the loop, so only the last agent drawn changes. Both compute N
  neighbourhood means per step / iteration (each a pass over the neighbours), so time per iteration is compared.
  NDlib also rebuilds `list(graph.nodes)` (O(N)) for every draw: its iteration is O(N^2) on any graph.

NDlib's first `iteration()` only reports the initial state; it is run before timing. Both sides start from the
same opinions (ours, uniform on [0, 1]). When one NDlib iteration at N would take longer than a budget, it is
extrapolated from two smaller graphs of the same kind (see `_extrapolate`) and the table says so.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import group_size, sbm_overrides, timed

PRESETS = {"deffuant": "AlgorithmicBiasModel (gamma = 0)", "hegselmann_krause": "HKModel"}
SKIPPED = "skipped: install .[bench]"


def _import_ndlib():
    """NDlib's two models, or the reason they cannot be imported (its HKModel also needs scikit-learn)."""
    try:
        import ndlib
        import ndlib.models.ModelConfig as mc
        from ndlib.models.opinions import AlgorithmicBiasModel, HKModel
    except ImportError as err:
        return None, f"{SKIPPED} ({err})"
    from importlib.metadata import version

    return (mc, AlgorithmicBiasModel, HKModel, version(ndlib.__name__)), ""


#: mean degree of the "dense" rows (at most N / 10): `preset=deffuant network=sbm n_agents=10000` had about this
#: many ties per agent when the SBM was set by p_in (one group, p_in = 0.1), where the partner pick scanned the ties
DENSE_DEGREE = 1000


def dense_degree(n: int) -> int:
    return min(DENSE_DEGREE, n // 10)


def our_model(preset: str, network: str, n: int, group: int | None = None):
    """Our preset as `python -m sim preset=... <network overrides>` composes it (mu = 0.5: NDlib averages)."""
    from sim.model import ResocializationModel
    from sim.studies.classics import preset_config

    if network == "complete":
        net = ["network=complete", f"n_agents={n}"]
    elif network == "dense":  # one group, mean degree dense_degree(n): the classics' SBM before it was set by degree
        net = [
            "network=sbm",
            f"n_agents={n}",
            "n_groups=1",
            f"network.p_in={dense_degree(n) / (n - 1)}",
            "network.p_out=0",
        ]
    else:
        net = sbm_overrides(n, group)
    cfg = preset_config(preset, *net, "preset.mu=0.5", "mesa_agents=never", "output.progress=off")
    return ResocializationModel(cfg, collect=False)


def _ndlib_model(nd, preset: str, model):
    """NDlib's model on our graph (nodes 0..N-1 in our order), our parameters and our current opinions."""
    import networkx as nx

    mc, AlgorithmicBiasModel, HKModel, _ = nd
    n, p = model.state.n_agents, model.cfg.preset
    u, v = model.state.ties.edges()[:2]
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    conf = mc.Configuration()
    if preset == "deffuant":
        m = AlgorithmicBiasModel(g, seed=model.cfg.seed)
        conf.add_model_parameter("epsilon", p.d)
        conf.add_model_parameter("gamma", 0)
    else:
        m = HKModel(g)
        conf.add_model_parameter("epsilon", p.epsilon)
    m.set_initial_status(conf)
    x = model.state.stance.tolist()
    m.status = dict(zip(range(n), x, strict=True))
    if getattr(m, "sts", None) is not None and not m.node_data:  # AlgorithmicBias keeps a copy on complete graphs
        m.sts = np.array(x, dtype=object)
    m.iteration(node_status=False)  # iteration 0 only reports the initial state
    return m


def ndlib_seconds(nd, preset: str, model, iterations: int) -> float:
    """Median seconds of one NDlib iteration on the model's graph."""
    m = _ndlib_model(nd, preset, model)
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        m.iteration(node_status=False)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def _extrapolate(nd, preset: str, n: int) -> tuple[float, list[list[float]]]:
    """NDlib's seconds per iteration at N from one iteration at N/10 and N/5 on SBMs with N's group size.

    An iteration is N draws; the cost of a draw is taken as affine in N, a + b N (NDlib's HKModel copies
    list(graph.nodes) at each draw; the AlgorithmicBias draw is O(degree), b ~ 0), fitted through both points
    and held to b >= 0. Caches slow down more at larger N, so this tends to underestimate NDlib.
    """
    probes = [[m, ndlib_seconds(nd, preset, our_model(preset, "sbm", m, group_size(n)), 3)] for m in (n // 10, n // 5)]
    (n1, t1), (n2, t2) = probes
    b = max(0.0, (t2 / n2 - t1 / n1) / (n2 - n1)) if n2 != n1 else 0.0
    a = t2 / n2 - b * n2
    return n * (a + b * n), probes


def bench_ndlib(rows: list[tuple[str, str, int]], budget_s: float, iterations: int) -> dict:
    """One row per (preset, network, N): our step, NDlib's iteration (measured or extrapolated), the ratio."""
    nd, why = _import_ndlib()
    if nd is None:
        return {"status": why, "rows": []}
    out = []
    for preset, network, n in rows:
        model = our_model(preset, network, n)
        start = model.state.stance.copy()
        model.step()  # compile / warm
        ours = timed(model.step, min_time=1.0, max_reps=200)
        model.state.stance = start  # NDlib starts where we started
        row = {
            "preset": preset,
            "ndlib_model": PRESETS[preset],
            "network": network,
            "n_agents": n,
            "ties": int(len(model.state.ties.edges()[0])),
            "ours_s": ours,
        }
        predicted, probes = (None, None) if network in ("complete", "dense") else _extrapolate(nd, preset, n)
        if predicted is not None and predicted > budget_s:
            row |= {"ndlib_s": predicted, "ndlib_how": "extrapolated", "ndlib_iterations": 0}
        else:
            k = iterations if predicted is None else max(1, min(iterations, int(budget_s / max(predicted, 1e-9))))
            row |= {"ndlib_s": ndlib_seconds(nd, preset, model, k), "ndlib_how": "measured", "ndlib_iterations": k}
        row |= {"ndlib_predicted_s": predicted, "probes": probes, "ratio": row["ndlib_s"] / ours}
        out.append(row)
    return {"status": "ok", "ndlib_version": nd[3], "budget_s": budget_s, "rows": out}


def markdown(res: dict) -> list[str]:
    lines = ["## Classic presets vs NDlib (same graph, parameters and initial opinions)", ""]
    if res["status"] != "ok":
        return lines + [res["status"], ""]
    lines += [
        f"NDlib {res['ndlib_version']}. Ours: one `model.step()` of the preset (its draws, the numba rule "
        "and the convergence test). NDlib: one `iteration()` (after the first, which only reports the start).",
        "",
        "| preset | NDlib model | network | N | ties | compared | ours s/step | NDlib s/iteration "
        "| NDlib timing | NDlib / ours | target >= 200x |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["rows"]:
        what = (
            "per step = per N interactions (1)"
            if r["preset"] == "deffuant"
            else "per iteration; NDlib's HKModel is not a faithful HK (2)"
        )
        how = (
            f"measured ({r['ndlib_iterations']} it.)"
            if r["ndlib_how"] == "measured"
            else f"extrapolated from N = {r['probes'][0][0]:,} and {r['probes'][1][0]:,} (3)"
        )
        if r["ndlib_how"] == "measured" and r["ndlib_predicted_s"] is not None:
            how += f"; extrapolation (3) predicted {r['ndlib_predicted_s']:.3g} s"
        lines.append(
            f"| {r['preset']} | {r['ndlib_model']} | {r['network']} | {r['n_agents']:,} | {r['ties']:,} | "
            f"{what} | {r['ours_s']:.3g} | {r['ndlib_s']:.3g} | {how} | {r['ratio']:,.0f}x | "
            f"{'met' if r['ratio'] >= 200 else 'missed'} |"
        )
    return lines + [
        "",
        "(1) Both do N pairwise interactions in sequence: a uniform agent, a uniform neighbour (gamma = 0), both "
        "move to their average if closer than d (strict; our mu = 0.5). On the complete graph NDlib's "
        "AlgorithmicBiasModel does O(N) work per interaction (np.delete and the selection weights over all others), "
        "ours O(1).",
        "(2) Ours updates all N agents at once (mean over self and neighbours within <= epsilon). NDlib's iteration "
        "draws N agents one at a time with replacement, averages over the neighbours within < epsilon, self "
        "excluded, and writes only the last agent drawn (`actual_status[n1] = new_op` is after its loop). Both "
        "compute N neighbourhood means per step / iteration. NDlib copies `list(graph.nodes)` at every draw, so its "
        "iteration is O(N^2) on any graph; most of its time at large N on the SBM.",
        f"(3) Used when one NDlib iteration at N is predicted above {res['budget_s']:.0f} s: one iteration "
        "(median of 3) at N/10 and N/5 on SBMs with the same group size, per-draw cost fitted as a + b N "
        "(b >= 0). SBM: mean degree 20, 16 inside groups of 1,000 (100 for N <= 10,000), 4 outside. "
        f"Dense: one group, each pair tied with probability k / (N - 1), mean degree k = min({DENSE_DEGREE:,}, "
        "N / 10), where a partner pick that scanned the agent's ties would show.",
        "",
    ]
