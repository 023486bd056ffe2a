"""`python -m sim.review DIR [--studies 51] [--corpora 200] [--seed 0] [key=value ...]`: the virtual review.

Reads a run directory or a sweep directory (its complete runs), draws `--corpora` virtual corpora of
`--studies` studies with the observation model (`key=value` overrides its parameters, docs/review.md)
and writes into DIR, each file atomically: `review.parquet` (one row per study of every corpus),
`review_summary.json` (class shares with 90% Monte Carlo intervals, the review's shares) and
`review.png`. Bad input stops before anything is written, with one line and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pyarrow as pa

from sim.config.errors import InputError
from sim.review.corpus import draw_corpora, professional_shares, summarize_corpora
from sim.review.data import load_effects
from sim.review.figure import LABELS, draw_review
from sim.review.observation import FIELDS, from_overrides
from sim.run.io import write_json, write_table

FILES = ("review.parquet", "review_summary.json", "review.png")
MAX_CORPORA = 100_000


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit code 2 (argparse prints the usage too)
        print(f"error: {message}; see python -m sim.review --help", file=sys.stderr)
        sys.exit(2)


def parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="python -m sim.review",
        description="The virtual review: virtual studies observe the simulated professionals of a run or sweep "
        "directory, and their shares are set beside the review's (docs/review.md).",
        epilog="observation parameters (key=value): " + ", ".join(FIELDS),
    )
    ap.add_argument("directory", type=Path, help="a run directory or a sweep directory of runs")
    ap.add_argument(
        "overrides", nargs="*", metavar="key=value", help="observation parameters (defaults: docs/review.md)"
    )
    ap.add_argument("--studies", type=int, default=None, help="studies per virtual corpus (default 51, as the review)")
    ap.add_argument("--corpora", type=int, default=200, help="virtual corpora drawn (default 200)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the numpy Generator of the draws (default 0)")
    return ap


def review(directory: Path, overrides: list[str], studies: int | None, corpora: int, seed: int) -> dict[str, Any]:
    """Check everything, draw, then write the three files; returns the summary."""
    obs = from_overrides(overrides)
    if studies is not None:
        obs = obs.replace(studies=studies)
    if not 1 <= corpora <= MAX_CORPORA:
        raise InputError(f"invalid --corpora={corpora}; allowed: an integer in [1, {MAX_CORPORA}]")
    if seed < 0:
        raise InputError(f"invalid --seed={seed}; allowed: an integer >= 0")
    effects = load_effects(directory)
    table = draw_corpora(effects, obs, np.random.default_rng(seed), corpora)
    summary = summarize_corpora(table, obs) | {
        "professionals": professional_shares(effects, obs),
        "runs": int(effects["run"].nunique()),
        "scenarios": sorted(set(effects["scenario"].astype(str))),
        "seed": seed,
        "directory": str(directory),
        "overrides": list(overrides),
    }
    write_table(directory / "review.parquet", pa.Table.from_pandas(table, preserve_index=False))
    write_json(directory / "review_summary.json", summary)
    draw_review(summary, directory / "review.png")
    return summary


def summary_text(summary: dict[str, Any]) -> str:
    """The summary table the command prints."""
    rows = [
        f"virtual review: {summary['corpora']} corpora of {summary['studies']} studies from {summary['runs']} runs "
        f"({', '.join(summary['scenarios'])})",
        f"{'class of study':<28}{'virtual review (90% interval)':>32}{'the review':>12}",
    ]
    for key in ("mixed", "only_positive", "other", "only_negative", "none"):
        c = summary["classes"][key]
        target = summary["review"].get(key)
        name = (
            LABELS[key].replace("\n", " ")
            if key in ("mixed", "other")
            else "  " * (key in ("only_negative", "none")) + LABELS[key]
        )
        rows.append(
            f"{name:<28}{c['share']:>14.2f} ({c['lo']:.2f}-{c['hi']:.2f}){'':>6}"
            + (f"{target:>12.2f}" if target is not None else f"{'':>12}")
        )
    for key, d in summary["designs"].items():
        rows.append(
            f"{key + ' design':<28}{d['share']:>14.2f} ({d['lo']:.2f}-{d['hi']:.2f}){'':>6}{d['review']:>12.2f}"
        )
    rows.append("interval: 5th-95th percentiles over the virtual corpora (Monte Carlo), not a confidence interval")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_intermixed_args(argv)
    try:
        summary = review(args.directory, list(args.overrides), args.studies, args.corpora, args.seed)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(summary_text(summary))
    print(f"outputs: {', '.join(str(args.directory / f) for f in FILES)}")
    return 0
