"""The short summary table printed after a run."""

from __future__ import annotations

from typing import Any

ROWS = (
    ("stance_mean", "mean stance (1 = dominant discourse)"),
    ("adopter_share", "adopters"),
    ("resister_share", "resisters"),
    ("withdrawn_share", "withdrawn"),
    ("overloaded_share", "overloaded"),
    ("marginalized_share", "marginalized"),
    ("identity_mean", "identity clarity"),
    ("degree_mean", "mean degree"),
    ("n_major_clusters", "opinion clusters (major)"),
    ("esteban_ray", "Esteban-Ray polarization"),
    ("bimodality", "bimodality coefficient"),
    ("ledger_mixed", "ledger: mixed effects"),
    ("ledger_only_positive", "ledger: only positive"),
)


def summary_table(summary: dict[str, Any]) -> str:
    ran = summary.get("stopped_at_step", summary["steps"])
    steps = f"{ran} steps" if ran == summary["steps"] else f"stopped at step {ran} of {summary['steps']}"
    head = (
        f"{summary['scenario']} | preset {summary['preset']} | {summary['n_agents']} agents, "
        f"{summary['n_groups']} groups | {steps} | seed {summary['seed']} | "
        f"{summary['wall_time_s']:.1f} s"
    )
    width = max(len(label) for _, label in ROWS)
    lines = [head, *_network_line(summary.get("network")), f"{'metric':<{width}}  {'step 0':>9}  {'final':>9}"]
    lines.append("-" * (width + 22))
    for key, label in ROWS:
        a, b = summary["initial"].get(key), summary["final"].get(key)
        lines.append(f"{label:<{width}}  {_fmt(a):>9}  {_fmt(b):>9}")
    rec = summary.get("recovery") or {}
    if rec.get("pre_shock_engagement") is not None:
        steps = rec["recovery_steps"]
        lines.append(
            f"{'engagement recovery after shock':<{width}}  {'never' if steps is None else f'{steps} steps':>20}"
        )
    return "\n".join(lines)


def _network_line(net: dict[str, Any] | None) -> list[str]:
    """The network as built: its probabilities (or k), derived or given, and its mean degree expected and at step 0."""
    if not net or "expected_mean_degree" not in net:
        return []
    derived = net.get("derived") or []
    if net["kind"] == "sbm":
        how = f"p_in {net['p_in']:.6g}, p_out {net['p_out']:.6g}"
        if derived:
            how += (
                f" ({' and '.join(derived)} from mean degree {net['from_mean_degree']:g}, "
                f"in-group share {net['from_in_group_share']:g})"
            )
    elif net["kind"] == "small_world":
        how = f"k {net['k']}" + (f" (from mean degree {net['from_mean_degree']:g})" if derived else "")
        how += f", beta {net['beta']:g}"
    else:
        how = ""
    degree = f"mean degree {net['expected_mean_degree']:.4g} expected"
    if net.get("mean_degree") is not None:
        degree += f", {net['mean_degree']:.4g} at step 0"
    return [f"network {net['kind']}: " + (f"{how}; " if how else "") + degree]


def _fmt(v: Any) -> str:
    if v is None or v != v:
        return "n/a"
    return f"{v:.0f}" if float(v).is_integer() and abs(v) > 1 else f"{v:.3f}"
