"""The command line: `python -m sim [key=value ...]`, a Hydra app (add -m for sweeps, docs/sweeps.md)."""

from __future__ import annotations

import errno
import logging
import os
import sys
from pathlib import Path
from typing import Any, cast

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.config.compose import CONF_DIR, config_of, quiet_schema_notice, register_schema
from sim.config.errors import InputError
from sim.config.params import Config, validate
from sim.core.threads import idle_threads_sleep
from sim.run import heap
from sim.run.report import summary_table
from sim.studies.jobconfig import install as compose_jobs_from_templates
from sim.studies.jobstate import install as set_up_jobs_faster
from sim.studies.naming import register_resolvers, write_overrides

idle_threads_sleep()  # before numba's first parallel kernel loads GNU OpenMP (also in a sweep's workers)
register_schema()
quiet_schema_notice()  # the program's process (and a sweep's workers, which import this module)
register_resolvers()  # also in every worker of a sweep: unpickling the task function imports this module
compose_jobs_from_templates()  # a sweep's jobs: Hydra composes once per choice of config groups (jobconfig)
set_up_jobs_faster()  # ... keeps its plugin registry and writes .hydra/ with libyaml (jobstate)
log = logging.getLogger("sim.run")


def trust_preflight() -> None:
    """Hydra's basic sweeper composes no job's config a second time before launching the batch.

    Called by `python -m sim` once the preflight (sim.config.preflight) has composed and validated every
    run of the sweep: Hydra's sweeper would compose each job again in the parent, only to check that it
    composes (about 80 ms a run, one after another, while the workers wait: 13 minutes before the first
    run of a 10,000-run sweep). Each job is still composed where it runs, by the launcher.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    BasicSweeper.validate_batch_is_legal = lambda self, batch: None  # type: ignore[method-assign]


#: the overrides that could set `hydra.mode` in the composed config: Hydra must compose it to know the mode
_MODE_KEYS = ("hydra.mode", "hydra.searchpath")


def mode_from_flags(argv: list[str]) -> bool:
    """Hydra takes the run's mode from the command line's flags without composing the config once more for it.

    Before running, Hydra composes the whole config only to read `hydra.mode` (`Hydra.get_mode`), and
    falls back on the flags (-m or not) when the config leaves it unset, as this project's config does
    (tests/unit/test_cli_mode.py composes every config group option to check it). So where nothing on
    the command line can set it (`hydra.mode` itself, another config directory or search path), the mode
    is the flags' at once: one composition fewer for every command (0.12-0.19 s of a ~3.5 s default
    run). True if installed.
    """
    from hydra._internal.hydra import Hydra

    from sim.studies.prestart import names_other_config

    if names_other_config(argv) or any(arg.lstrip("+~").startswith(_MODE_KEYS) for arg in argv):
        return False
    Hydra.get_mode = lambda self, config_name, overrides: None  # type: ignore[method-assign]
    return True


def to_config(dcfg: DictConfig) -> Config:
    """The typed, validated config (raises InputError naming the key at fault)."""
    return validate(config_of(dcfg))


def job_meta(hc: DictConfig) -> dict[str, Any]:
    """What the completion marker keeps of Hydra's view of a job (sim.studies.collect reads it)."""
    choices = cast(dict[str, Any], OmegaConf.to_container(hc.runtime.choices))
    num = OmegaConf.select(hc, "job.num", default=None, throw_on_missing=False)
    return {
        "overrides": list(cast(list[str], OmegaConf.to_container(hc.overrides.task))),
        "choices": {k: v for k, v in choices.items() if not k.startswith("hydra/")},
        "job_num": num if isinstance(num, int) else None,
        "mode": str(hc.mode.name) if hc.mode is not None else None,
    }


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def main(dcfg: DictConfig) -> None:
    from sim.run.completion import stale_reason

    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    meta = job_meta(cast(DictConfig, hc))  # HydraConfig.get() is a DictConfig
    try:
        cfg = to_config(dcfg)
        if multirun:
            cfg.output.progress = "off"  # a sweep shows one bar over its runs instead (sim.studies.callbacks)
            write_overrides(out, meta["overrides"])  # the exact overrides behind the directory's name
            reason = stale_reason(out, cfg)
            if reason is None:  # a resumed sweep: this run is complete, same config, inputs, code and outputs
                log.info("run skipped: %s is complete for this config", out)
                return None
            if reason != "no completion marker":
                log.info("run redone: %s (%s)", out, reason)
        from sim.run.compilenote import announce_compilation
        from sim.run.runner import run  # the model (and its compiled step) only when there is a run to do

        heap.before_first_run()  # what the imports made lives as long as the process (sim.run.heap)
        partner = drawer = None
        if not multirun:
            from sim.run import drawer as figure_process
            from sim.run import partner as compile_partner

            announce_compilation()  # on a terminal: one line while numba compiles (a fresh install)
            partner = compile_partner.start(cfg)  # a cold cache: the step compiles beside the metrics
            drawer = figure_process.take()  # the figure drawn beside the last outputs (sim.run.drawer)
        try:
            summary = run(cfg, out, meta=meta, partnered=partner is not None, drawer=drawer)
        finally:
            if partner is not None:
                partner.close()
            if drawer is not None:
                drawer.close()
    except Exception as err:
        line = error_line(err)
        if line is None:
            if not multirun:
                raise  # a bug: Hydra prints the traceback
            log.exception("run failed: %s", out)
            line = f"{type(err).__name__}: {err}".splitlines()[0]
        if not multirun:
            print(f"error: {line}", file=sys.stderr)
            remove_if_empty(out)
            sys.exit(2 if isinstance(err, InputError) else 1)
        record_failure(out, line, meta)  # the sweep goes on; sim.studies.callbacks reports it at the end
        return None
    log.info("summary of %s\n%s", out, summary_table(summary))  # in sim.log (the terminal shows warnings only)
    if multirun:
        heap.settle()  # after a process's first run: its long-lived objects out of later collections
        return None  # nothing big kept in Hydra's per-job results
    print(summary_table(summary))
    print(f"outputs: {out}")


def error_line(err: BaseException) -> str | None:
    """The one line a user sees for an expected error (bad input, a full disk), None for a bug."""
    if isinstance(err, InputError):
        return str(err)
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" writing {err.filename}" if err.filename else ""
        return f"disk full{where} ({os.strerror(err.errno)}); no output was left under a final name"
    return None


def remove_if_empty(out: Path) -> None:
    """Remove a single run's directory that holds only what Hydra wrote (.hydra/, the log): no run in it."""
    import shutil

    try:
        if {p.name for p in out.iterdir()} <= {".hydra", "sim.log"}:
            shutil.rmtree(out, ignore_errors=True)
    except OSError:
        pass


def record_failure(out: Path, line: str, meta: dict[str, Any]) -> None:
    """A failed run of a sweep: `_failed.json` (its one-line error and overrides) in its directory."""
    from sim.run.completion import FAILED
    from sim.run.io import write_json

    log.error("run failed: %s: %s", out, line)
    try:
        write_json(out / FAILED, {"error": line, "overrides": meta.get("overrides", []), "pid": os.getpid()})
    except OSError:  # a full disk: the line is in the log and on stderr
        print(f"error: {' '.join(meta.get('overrides', []))}: {line}", file=sys.stderr)
