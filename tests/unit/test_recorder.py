"""metrics.parquet's rows (sim.run.recorder): the same table however often the recorder flushes, user labels kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim.model import ResocializationModel
from sim.run.io import ParquetStream
from sim.run.recorder import GROUP_LABEL, MetricsRecorder, metrics_schema


def _record(cfg, path: Path, flush_rows: int, labels: np.ndarray | None) -> None:
    model = ResocializationModel(cfg)
    stream = ParquetStream(path, metrics_schema(labels))
    rec = MetricsRecorder(cfg, stream, flush_rows=flush_rows, group_labels=labels)
    rec.record(model.state, None)
    for _ in range(4):
        model.step()
        rec.observe(model.state, model.last_report)
        rec.record(model.state, model.last_report)
    rec.flush()
    stream.close()


@pytest.mark.parametrize("labels", [None, "int", "str"])
def test_the_table_does_not_depend_on_flushes(small_cfg, tmp_path: Path, labels: str | None) -> None:
    k = small_cfg.n_groups
    group_labels = {
        None: None,
        "int": np.arange(k, dtype=np.int64) * 7 + 100,
        "str": np.array([f"team {g}" for g in range(k)]),
    }[labels]
    _record(small_cfg, tmp_path / "once.parquet", 10**9, group_labels)
    _record(small_cfg, tmp_path / "often.parquet", 1, group_labels)  # a flush after every record
    once, often = pq.read_table(tmp_path / "once.parquet"), pq.read_table(tmp_path / "often.parquet")
    assert once.schema == often.schema == metrics_schema(group_labels)
    per_record = int((once.column("step").to_numpy() == 0).sum())
    assert once.num_rows == often.num_rows == 5 * per_record > 0
    a, b = once.to_pandas(), often.to_pandas()
    for col in ("scope", "level", "metric"):  # each flush has its own dictionary: compare the values
        a[col], b[col] = a[col].astype(str), b[col].astype(str)
    assert a.equals(b)
    assert set(a["scope"]) == {"all", "profession", "group"}
    groups = a[a["scope"] == "group"]
    if labels is None:
        assert GROUP_LABEL not in a and sorted(set(groups["level"]), key=int) == [str(g) for g in range(k)]
    else:  # the user's label, as text in `level` and with its type in `group_label`; null on other scopes
        assert sorted(set(groups["level"])) == sorted(str(x) for x in group_labels)
        assert (groups["level"] == groups[GROUP_LABEL].astype(str)).all()
        assert a.loc[a["scope"] != "group", GROUP_LABEL].isna().all()
    # a dictionary holds each name once
    column = pq.read_table(tmp_path / "once.parquet").column("level").chunk(0)
    assert len(column.dictionary) == len(set(column.dictionary.to_pylist()))
