"""Regression baselines: digests of the values of fixed small runs, committed in tests/baselines/.

A change that is meant to alter results updates them in a commit of its own that says why:

    python -m tests.support.baselines --update

Each case runs `sim.run.runner.run` on a config composed as the command line composes it, then hashes
the values (not the bytes) of `metrics.parquet` and `agents.parquet`, so a change of compression or
of Parquet metadata does not count, and any change of a value, a row or a column does. The final
whole-population metrics are stored beside the digests so that a failure shows what moved.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

BASELINES = Path(__file__).resolve().parent.parent / "baselines" / "regression.json"
SMALL = ["n_agents=240", "n_groups=6", "steps=40", "seed=7", "output.snapshot_every=10", "output.progress=off"]
CASES: dict[str, list[str]] = {
    "default": SMALL,
    "pandemic_shock": [*SMALL, "scenario=pandemic_shock", "exposure.start=10", "exposure.length=15"],
    "deffuant": ["preset=deffuant", *SMALL, "n_groups=1"],
    "hegselmann_krause": ["preset=hegselmann_krause", *SMALL, "n_groups=1"],
    "jager_amblard": ["preset=jager_amblard", *SMALL, "n_groups=1"],
    "kozma_barrat": ["preset=kozma_barrat", *SMALL, "n_groups=1"],
    "holme_newman": ["preset=holme_newman", *SMALL, "n_groups=1"],
}
TABLES = ("metrics", "agents")


def table_digest(path: Path) -> str:
    """sha256 of a Parquet table's values: column names, dtypes and every value, row by row."""
    df = pd.read_parquet(path)
    h = hashlib.sha256()
    h.update(json.dumps([(c, str(df[c].dtype)) for c in df.columns]).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def compute(case: str) -> dict:
    """Run one case into a temporary directory and return its digests and final metrics."""
    from sim.config.compose import compose
    from sim.run.runner import run

    cfg = compose(CASES[case])
    with tempfile.TemporaryDirectory() as tmp:
        summary = run(cfg, tmp)
        out = {t: table_digest(Path(tmp) / f"{t}.parquet") for t in TABLES}
        out["rows"] = {t: pq.read_metadata(Path(tmp) / f"{t}.parquet").num_rows for t in TABLES}
    out["final"] = {k: v for k, v in summary["final"].items() if isinstance(v, int | float)}
    out["overrides"] = CASES[case]
    return out


def load() -> dict:
    return json.loads(BASELINES.read_text())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--update", action="store_true", help="rewrite tests/baselines/regression.json")
    ap.add_argument("cases", nargs="*", default=list(CASES), help="cases to compute (default: all)")
    args = ap.parse_args(argv)
    old = load() if BASELINES.exists() else {}
    new = dict(old)
    changed = []
    for case in args.cases:
        new[case] = compute(case)
        same = (
            old.get(case, {}).get("metrics") == new[case]["metrics"]
            and old.get(case, {}).get("agents") == new[case]["agents"]
        )
        print(f"{case}: {'unchanged' if same else 'CHANGED'}")
        if not same:
            changed.append(case)
    if args.update:
        BASELINES.parent.mkdir(parents=True, exist_ok=True)
        BASELINES.write_text(json.dumps({k: new[k] for k in CASES if k in new}, indent=1, sort_keys=True) + "\n")
        print(f"wrote {BASELINES}")
    return 1 if changed and not args.update else 0


if __name__ == "__main__":
    raise SystemExit(main())
