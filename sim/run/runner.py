"""One run from a config to its outputs: metrics, snapshots, events, ties, summary and figure."""

from __future__ import annotations

import ctypes
import functools
import logging
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from sim.config.params import Config, network_description
from sim.core.pages import ordinary_pages
from sim.core.report import StepReport
from sim.core.threads import use_threads
from sim.metrics.regime import regime_summary
from sim.model import ResocializationModel
from sim.run import completion, outputs
from sim.run.io import ParquetStream, write_json, write_table, write_tables
from sim.run.recorder import MetricsRecorder, metrics_schema

if TYPE_CHECKING:
    from sim.run.drawer import Drawer

log = logging.getLogger("sim.run")

OUTPUT_FILES = (
    "metrics.parquet",
    "agents.parquet",
    "edges.parquet",
    "events.parquet",
    "summary.json",
    "figure.png",
)  # edge-list runs add nodes.parquet


def _progress(cfg: Config, total: int):
    from tqdm.auto import tqdm

    show = cfg.output.progress == "on" or (cfg.output.progress == "auto" and sys.stderr.isatty())
    return tqdm(total=total, disable=not show, unit="step", desc=f"{cfg.scenario.name} seed {cfg.seed}")


def run(
    cfg: Config,
    out_dir: str | Path,
    meta: dict[str, Any] | None = None,
    *,
    partnered: bool = False,
    drawer: Drawer | None = None,
) -> dict[str, Any]:
    """Run the model and write every output into `out_dir`; returns the summary.

    `meta` (e.g. the Hydra overrides of a sweep's job) is kept in the completion marker, written
    after every output (`sim.run.completion`). BLAS runs on one thread meanwhile: numpy's dot products
    (in the metrics) otherwise sum in an order that depends on the machine's cores and on the
    launcher's thread limits, and a run would not give the same bytes everywhere. `partnered`: a compile
    partner is compiling the step (`sim.run.partner`): the run first compiles what the partner would
    reach last (`sim.run.partner.compile_ahead`), then its metrics; the outputs are the same. `drawer`:
    a figure process (`sim.run.drawer`) draws the figure while the run writes its other outputs; the
    same figure.
    """
    _keep_freed_memory()
    with completion.single_threaded_blas():
        return _run(cfg, out_dir, meta, partnered, drawer)


def _keep_freed_memory() -> None:
    """Let glibc reuse freed arrays of up to 32 MiB instead of handing them back to the system.

    A step allocates and frees the same few arrays of N numbers every time; by default each one of
    more than 128 KiB is a fresh mapping that faults in page by page (a few percent of a step at a
    million agents). The peak memory is unchanged: the reused blocks are the ones just freed. No-op
    where the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: arrays up to 32 MiB come from the heap
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: keep up to 1 GiB of freed heap for reuse
    except (OSError, AttributeError):
        pass


def _run(
    cfg: Config, out_dir: str | Path, meta: dict[str, Any] | None, partnered: bool, drawer: Drawer | None
) -> dict[str, Any]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    inputs = completion.input_digests(cfg)  # before the model reads them: a file edited meanwhile is redone
    model = ResocializationModel(cfg, collect=False)  # bad input fails here, before any output
    init_s = time.perf_counter() - started
    info = completion.begin(out, cfg, inputs)  # sets older outputs aside before any is replaced
    try:
        # the metrics and outputs on the model's kernel threads, their arrays on ordinary pages (sim.core.pages)
        with use_threads(model.threads), ordinary_pages():
            if partnered:
                from sim.run.partner import compile_ahead

                compile_ahead(model.state)
            return _outputs(cfg, out, model, info, started, init_s, meta, drawer)
    except BaseException:
        if drawer is not None:
            drawer.close()  # it writes nothing more: the clean-up below leaves no file behind
        completion.discard(out)  # a failed run leaves no output under a final name (a kill leaves no marker)
        raise


def _outputs(
    cfg: Config,
    out: Path,
    model: ResocializationModel,
    info: dict[str, Any],
    started: float,
    init_s: float,
    meta: dict[str, Any] | None,
    drawer: Drawer | None = None,
) -> dict[str, Any]:
    state = model.state
    # a user's network: its group labels are the levels of the metrics by group, and their typed
    # group_label column, as in nodes.parquet (which maps them to the group numbers)
    group_labels = None if model.labels is None else model.labels[1]
    streams = {
        "metrics": ParquetStream(out / "metrics.parquet", metrics_schema(group_labels)),
        "agents": ParquetStream(out / "agents.parquet", outputs.AGENT_SCHEMA),
    }
    if cfg.output.events:
        streams["events"] = ParquetStream(out / "events.parquet", outputs.EVENT_SCHEMA)
    rec = MetricsRecorder(cfg, streams["metrics"], group_labels=group_labels)
    events = outputs.EventLog(streams["events"]) if "events" in streams else None
    rows = outputs.snapshot_rows(state.n_agents, cfg.output.snapshot_sample)
    every, snap = cfg.metrics.every, cfg.output.snapshot_every
    try:
        rec.record(state, None)
        streams["agents"].write(outputs.agent_table(state, rows))
        with _progress(cfg, cfg.steps) as bar:
            for t in range(1, cfg.steps + 1):
                model.step()
                report = cast(StepReport, model.last_report)  # set by every step
                rec.observe(state, report)
                last = t == cfg.steps or (cfg.stop_at_convergence and model.converged)
                if events is not None:
                    events.add(t, report)
                if t % every == 0 or last:
                    rec.record(state, model.last_report)
                if last or (snap and t % snap == 0):
                    streams["agents"].write(outputs.agent_table(state, rows))
                bar.update()
                if last:  # stop_at_convergence may end the run before cfg.steps
                    break
        # the figure process draws the figure while this one writes the rest (the records are complete)
        if drawer is not None and not (cfg.output.figure and drawer.draw(rec, out, _figure_title(cfg, state))):
            drawer = None  # it draws nothing: the figure, if any, is drawn here
        rec.flush()
        if events is not None:
            events.flush()
        for s in streams.values():
            s.close()
    except BaseException:
        for s in streams.values():
            s.abort()
        raise
    write_tables(out / "edges.parquet", outputs.EDGE_SCHEMA, outputs.edge_tables(state))
    extra = _write_node_labels(model, out)
    summary = {
        "final": rec.final(),
        "initial": {m: v[0] for m, v in rec.series.items() if v},
        "recovery": recovery_summary(cfg, rec),
        "n_agents": state.n_agents,
        "n_groups": state.n_groups,
        "n_ties": int(state.ties.degree().sum() // 2),
        # the probabilities (or k) the network was built with, derived or given, and its mean degree at step 0
        "network": network_description(model.cfg)
        | {"mean_degree": rec.series["degree_mean"][0] if rec.series.get("degree_mean") else None},
        "steps": cfg.steps,
        "seed": cfg.seed,
        "scenario": cfg.scenario.name,
        "preset": cfg.preset.name,
        "implementation": cfg.implementation,
        "stopped_at_step": state.t,
        **regime_summary(state.stance, cfg.metrics),  # docs/classics.md
        "versions": dict(package_versions()),
    }
    if cfg.output.figure:
        if drawer is not None and drawer.wait(out / "figure.png"):
            log.info("figure drawn by the figure process (sim.run.drawer)")
        else:
            from sim.run.figure import draw_figure  # matplotlib: imported by the runs that draw here

            draw_figure(rec, out / "figure.png", _figure_title(cfg, state))
    summary["wall_time_s"] = round(time.perf_counter() - started, 3)
    summary["init_s"] = round(init_s, 3)
    write_json(out / "summary.json", summary)  # the last output; then the marker
    written = [*(f"{name}.parquet" for name in streams), "edges.parquet", *extra, "summary.json"]
    completion.finish(out, cfg, info, written + (["figure.png"] if cfg.output.figure else []), meta)
    return summary


def _figure_title(cfg: Config, state: Any) -> str:
    name = cfg.scenario.name if cfg.preset.name == "full" else f"preset {cfg.preset.name}"
    return f"{name}: {state.n_agents} agents, {state.n_groups} groups, {cfg.steps} steps, seed {cfg.seed}"


@functools.cache
def package_versions() -> dict[str, str]:
    """The versions a run's summary records: read from the installed packages' metadata once per process."""
    packages = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "hydra-core")
    return {p: version(p) for p in packages} | {
        "sim": version("resocialization-sim"),
        "python": platform.python_version(),
    }


def _write_node_labels(model: ResocializationModel, out: Path) -> list[str]:
    """nodes.parquet for an edge-list run (the user's ids of the agents); nothing otherwise."""
    if model.labels is None:
        return []
    node_labels, group_labels = model.labels
    write_table(out / "nodes.parquet", outputs.node_table(node_labels, model.state.group, group_labels))
    return ["nodes.parquet"]


def recovery_summary(cfg: Config, rec: MetricsRecorder) -> dict[str, float | None]:
    """Engagement before, at the trough of, and after a shock, and the steps it took to recover.

    Recovered means mean engagement back within 5% of its pre-shock level; None if it never
    did (or there was no shock).
    """
    ex = cfg.exposure
    if ex.kind != "shock":
        return {"pre_shock_engagement": None, "trough_engagement": None, "recovery_steps": None}
    steps = np.asarray(rec.steps)
    eng = np.asarray(rec.series["engagement_mean"])
    before = eng[steps < ex.start]
    if not len(before):
        return {"pre_shock_engagement": None, "trough_engagement": None, "recovery_steps": None}
    pre = float(before[-1])
    end = ex.start + ex.length
    after = steps >= end
    during = (steps >= ex.start) & (steps < end)
    trough = float(eng[during].min()) if np.any(during) else None
    back = np.flatnonzero(after & (eng >= 0.95 * pre))
    return {
        "pre_shock_engagement": pre,
        "trough_engagement": trough,
        "recovery_steps": int(steps[back[0]] - end) if len(back) else None,
    }
