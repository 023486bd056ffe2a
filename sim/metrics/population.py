"""Population metrics by scope: the whole population, each group, each profession.

Every level of every scope is a union of cells, one cell per group and profession. Share-type
metrics are per-agent indicators summed per cell in one compiled pass (O(N)), then per level from
the cell sums; polarization measures sort each level's stances (O(N log N) in total) and run for
all levels of all scopes in one compiled call; assortativity comes from per-agent tie sums gathered
for all scopes in one pass over the ties. Nothing is N x N, and no Python loop runs over levels or
agents. Definitions and sources are in docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from sim.config.params import PROFESSIONS, MetricsConfig
from sim.core.groups import dissenters_nb, lost_share
from sim.core.kernels import parallel_kernel
from sim.core.report import EVENT_KINDS, StepReport
from sim.core.state import LEDGER_NEGATIVE, LEDGER_POSITIVE, State
from sim.metrics import polarization
from sim.metrics.polarization import polarization_by_level
from sim.metrics.tiestats import scope_arcs, scope_assortativity

_JIT: dict[str, Any] = {"cache": True, "nogil": True}
_BITS = (len(PROFESSIONS) - 1).bit_length()  # a cell packs group and profession in (group << _BITS) | profession
_CHUNKS = 16  # agents are summed in this many fixed chunks (at most), whatever the thread count

SCOPES = ("all", "group", "profession")

# per-agent indicators whose level mean is the metric
MEAN_METRICS = (
    "stance_mean",
    "adopter_share",
    "resister_share",
    "dissenter_share",
    "marginalized_share",
    "isolated_share",
    "in_group_degree_mean",
    "withdrawn_share",
    "overload_withdrawn_share",
    "disengaged_share",
    "overloaded_share",
    "engagement_mean",
    "trust_mean",
    "load_mean",
    "identity_mean",
    "degree_mean",
    "accepted_share",
    "ledger_only_positive",
    "ledger_only_negative",
    "ledger_mixed",
    "ledger_none",
)
# events of the step counted by the scope of their source agent
COUNT_METRICS = ("ties_cut", "ties_excluded", "ties_muted", "ties_formed", "ties_rewired")
POLARIZATION_METRICS = (*polarization.KEYS, "assortativity")
RATIO_METRICS = ("marginalized_of_dissenters", "in_group_ties_lost_share")
METRICS = MEAN_METRICS + RATIO_METRICS + COUNT_METRICS + POLARIZATION_METRICS + ("exposure",)


@dataclass
class ScopeValues:
    scope: str
    levels: list[str]
    values: dict[str, np.ndarray]  # metric -> value per level


def ledger_effects(ledger: dict[str, np.ndarray], base: dict[str, np.ndarray] | None = None):
    """Who has positive and who has negative effects, counting since `base` (None: since step 0)."""
    keys = LEDGER_POSITIVE + LEDGER_NEGATIVE
    now = tuple(ledger[k] for k in keys)
    then = now if base is None else tuple(base[k] for k in keys)
    return _grew(now, then, base is not None, len(LEDGER_POSITIVE))


@parallel_kernel(**_JIT)
def _grew(now, then, since_then, n_positive):
    """Per agent: whether its first `n_positive` counters, and its others, grew since `then` (or since 0).

    Each total of `now` is compared with the same total of `then` if `since_then`, with 0 if not. The
    counters are read where they are, in one pass: stacking them cost ten million agents 0.5-0.6 s in a profiled
    record (fresh pages).
    """
    n = len(now[0])
    pos = np.empty(n, dtype=np.bool_)
    neg = np.empty(n, dtype=np.bool_)
    for i in nb.prange(n):
        gained: Any = 0  # int64s (a local annotation: not seen by numba)
        lost: Any = 0
        for r in range(len(now)):
            d = np.int64(now[r][i]) - (np.int64(then[r][i]) if since_then else 0)
            if r < n_positive:
                gained += d
            else:
                lost += d
        pos[i] = gained > 0
        neg[i] = lost > 0
    return pos, neg


def indicators(
    state: State,
    report: StepReport | None,
    cfg: MetricsConfig,
    conformity: float,
    ledger_base: dict[str, np.ndarray] | None = None,
    ledger_open: bool = True,
):
    """Per-agent indicator arrays (the things whose means are the share metrics), and their sums per cell.

    The ledger counts since `ledger_base` (the counters when the observation window opened); before
    it opens (`ledger_open` false) the ledger shares are NaN. Besides the metrics' keys the dict holds
    `_deg0`, `_arcs` (the cells and `scope_arcs` of the stances) and `_cells` (sums per cell), which
    `scopes_metrics` reads.
    """
    x = state.stance
    cell, n_cells = cells(state)
    n = len(x)
    arcs, far = scope_arcs(
        state.ties.indptr,
        state.ties.nbr,
        x,
        cell,
        _BITS,
        (_kept(state, "record_arcs", (3, n), np.int32), _kept(state, "record_far", (3, n), np.float64)),
    )
    degree, in_deg = arcs[0], arcs[1]
    dissent = dissenters_nb(x, state.group, state.group_order, state.group_start, conformity)
    deg0 = state.in_group_degree0
    marginalized = _marginalized(dissent, in_deg, deg0, cfg.marginalized_loss)
    pos, neg = ledger_effects(state.ledger, ledger_base)
    ledger = {
        "ledger_only_positive": pos & ~neg,
        "ledger_only_negative": neg & ~pos,
        "ledger_mixed": pos & neg,
        "ledger_none": ~pos & ~neg,
    }
    if not ledger_open:
        ledger = {k: np.full(len(x), np.nan) for k in ledger}
    accepted = report.n_accepted > 0 if report is not None else np.zeros(len(x), dtype=bool)
    ind = {
        "stance_mean": x,
        "adopter_share": x > cfg.adopter_above,
        "resister_share": x < cfg.resister_below,
        "dissenter_share": dissent,
        "marginalized_share": marginalized,
        "isolated_share": degree == 0,
        "in_group_degree_mean": in_deg,
        "withdrawn_share": state.withdrawn,
        "overload_withdrawn_share": state.overload_withdrawn,
        "disengaged_share": state.withdrawn & ~state.overload_withdrawn,
        "trust_mean": state.trust,
        "overloaded_share": state.overloaded,
        "engagement_mean": state.engagement,
        "load_mean": state.load,
        "identity_mean": state.identity,
        "degree_mean": degree,
        "accepted_share": accepted,
        **ledger,
        "_deg0": deg0,
    }
    ind["_cells"] = cell_sums(cell, n_cells, {m: ind[m] for m in (*MEAN_METRICS, "_deg0")})
    ind["_arcs"] = (cell, arcs, far)
    return ind


def _kept(state: State, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """A working array of the records, kept in the state's scratch (`State.scratch`) from one record to the next.

    At ten million agents a record's stances by level, arcs and far-end sums are 600 MB: made anew, their
    pages were faulted in again at every record (about 180,000 faults, 0.3-0.4 s of system time each).
    Its values do not outlive the record that wrote them: the next record overwrites them.
    """
    scratch = state.scratch()
    kept = scratch.get(name)
    if kept is None or kept[0].shape != shape or kept[0].dtype != dtype:
        kept = scratch[name] = (np.empty(shape, dtype),)
    return kept[0]


@parallel_kernel(**_JIT)
def _marginalized(dissent, in_deg, deg0, loss):
    """Dissenters that had in-group ties and lost more than `loss` of them (net), in one pass."""
    out = np.empty(len(dissent), dtype=np.bool_)
    for i in nb.prange(len(dissent)):
        out[i] = dissent[i] and lost_share(np.int64(in_deg[i]), deg0[i]) > loss  # typed as the step's call
    return out


def cells(state: State) -> tuple[np.ndarray, int]:
    """Every agent's cell, (group << _BITS) | profession, and the number of cells.

    A level of any scope is a union of cells, so sums per cell give the sums of every scope, and
    one xor of two cells tells whether two agents share a group and whether they share a profession.
    """
    return (state.group << _BITS) | state.profession, state.n_groups << _BITS


@parallel_kernel(**_JIT)
def _cell_sums(cell, n_cells, cols, acc):
    """Sum of each of `cols` (a tuple of per-agent columns of one dtype) in each cell: [n_cells, m], dtype `acc`.

    The agents are cut into a fixed number of chunks (set by the sizes, never by the threads), each
    summed in agent order and the chunks added in order, so the result is the same on any number of
    threads.
    """
    m, n = len(cols), len(cell)
    chunks = max(1, min(_CHUNKS, n // max(1, 8 * n_cells)))  # the buffers hold at most N m / 8 sums
    size = -(-n // chunks)
    part = np.zeros((chunks, n_cells, m), dtype=acc)
    for c in nb.prange(chunks):
        for i in range(c * size, min(n, (c + 1) * size)):
            row = cell[i]
            for j in range(m):
                part[c, row, j] += cols[j][i]
    out = part[0]
    for c in range(1, chunks):
        for row in range(n_cells):
            for j in range(m):
                out[row, j] += part[c, row, j]
    return out


def cell_sums(cell: np.ndarray, n_cells: int, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-cell sums of per-agent columns (key -> float64[n_cells]), plus the cell sizes under `_n`.

    Columns of one dtype are summed in one compiled pass, read where they are (stacking them first cost
    ten million agents a copy of every column at each record), booleans and integers in int64 (exact,
    and faster than float copies of them).
    """
    by_dtype: dict[np.dtype, list[str]] = {}
    for key, col in columns.items():
        by_dtype.setdefault(col.dtype, []).append(key)
    out = {"_n": np.bincount(cell, minlength=n_cells).astype(np.float64)}
    for dtype, keys in by_dtype.items():
        acc = np.float64 if dtype.kind == "f" else np.int64
        sums = _cell_sums(cell, n_cells, tuple(columns[key] for key in keys), acc).astype(np.float64)
        out.update({key: sums[:, j] for j, key in enumerate(keys)})
    return out


def level_sums(cell_values: np.ndarray, scope: str) -> np.ndarray:
    """Sums over the levels of `scope` of values per cell (cells in `cells` order)."""
    by_group = cell_values.reshape(-1, 1 << _BITS)
    if scope == "all":
        return np.array([by_group.sum()])
    return by_group.sum(axis=1) if scope == "group" else by_group.sum(axis=0)[: len(PROFESSIONS)]


def scope_levels(state: State, scope: str) -> tuple[np.ndarray, list[str]]:
    """Level id of every agent in this scope (in its stored dtype, no copy), and the level names."""
    if scope == "all":
        return np.zeros(state.n_agents, dtype=np.int8), ["all"]
    if scope == "group":
        return state.group, [str(g) for g in range(state.n_groups)]
    return state.profession, list(PROFESSIONS)


def scope_metrics(
    state: State,
    events: tuple[np.ndarray, np.ndarray],
    ind: dict[str, Any],
    scope: str,
    cfg: MetricsConfig,
    exposure: float,
) -> ScopeValues:
    """Every metric of every level of one scope (see `scopes_metrics`)."""
    return scopes_metrics(state, events, ind, [scope], cfg, exposure)[0]


def scopes_metrics(
    state: State,
    events: tuple[np.ndarray, np.ndarray],
    ind: dict[str, Any],
    scopes: list[str],
    cfg: MetricsConfig,
    exposure: float,
) -> list[ScopeValues]:
    """Every metric of every level of several scopes, from `indicators`' output and the tie events.

    The compiled parts (polarization, assortativity) run once for all the scopes, so that the threads
    share the one big level of `all` and the many small ones of `group`.
    """
    levels = [scope_levels(state, scope) for scope in scopes]
    ks = [len(names) for _, names in levels]
    polar = polarization_by_level(
        state.stance,
        [(lv, k) for (lv, _), k in zip(levels, ks, strict=True)],
        cluster_gap=cfg.cluster_gap,
        minor_share=cfg.minor_share,
        out=_kept(state, "record_sorted", (len(SCOPES) * state.n_agents,), np.float64),
    )
    cell, arcs, far = ind["_arcs"]  # assortativity over the ties with both ends in the level
    assort = scope_assortativity(
        state.stance, cell, _BITS, arcs, far, np.array([SCOPES.index(scope) for scope in scopes]), np.array(ks)
    )
    out = []
    for r, (scope, (level, names)) in enumerate(zip(scopes, levels, strict=True)):
        values = _level_values(ind["_cells"], events, scope, level, len(names))
        values.update(polar[r])
        values["assortativity"] = assort[r, : len(names)]
        values["exposure"] = np.full(len(names), exposure)
        out.append(ScopeValues(scope, names, values))
    return out


def _level_values(
    by_cell: dict[str, np.ndarray], events: tuple[np.ndarray, np.ndarray], scope: str, level: np.ndarray, k: int
) -> dict[str, np.ndarray]:
    """Means, ratios and event counts of each level of a scope, from the sums per cell."""
    sums = {m: level_sums(v, scope) for m, v in by_cell.items()}
    with np.errstate(invalid="ignore", divide="ignore"):
        values = {m: sums[m] / sums["_n"] for m in MEAN_METRICS}
        values["marginalized_of_dissenters"] = sums["marginalized_share"] / sums["dissenter_share"]
        deg0, in_deg = sums["_deg0"], sums["in_group_degree_mean"]
        # negative when a level gained in-group ties; undefined (nan) where it had none to lose
        values["in_group_ties_lost_share"] = np.where(deg0 > 0, 1.0 - in_deg / deg0, np.nan)
    src, kind = events  # tie events since the previous record, by the scope of their source
    for name in COUNT_METRICS:
        code = EVENT_KINDS.index(name.removeprefix("ties_"))
        values[name] = np.bincount(level[src[kind == code]], minlength=k).astype(float)
    return values
