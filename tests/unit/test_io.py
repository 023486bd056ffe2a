"""The atomic Parquet writer of pieces (`sim.run.io.write_tables`): order, row groups, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.run.io import write_tables

SCHEMA = pa.schema([("source", pa.int32()), ("target", pa.int32())])


def _pieces(sizes: list[int]):
    start = 0
    for size in sizes:
        yield pa.table({"source": np.arange(start, start + size), "target": np.arange(size)}, schema=SCHEMA)
        start += size


def test_the_pieces_are_written_in_order_each_its_own_row_group(tmp_path: Path) -> None:
    path = tmp_path / "edges.parquet"
    write_tables(path, SCHEMA, _pieces([5, 3, 7, 1]))
    meta = pq.ParquetFile(path).metadata
    assert [meta.row_group(k).num_rows for k in range(meta.num_row_groups)] == [5, 3, 7, 1]
    assert pq.read_table(path)["source"].to_pylist() == list(range(16))
    assert [p.name for p in tmp_path.iterdir()] == ["edges.parquet"]  # no temporary left


def test_no_piece_writes_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "edges.parquet"
    write_tables(path, SCHEMA, iter([]))
    assert pq.read_table(path).num_rows == 0


@pytest.mark.parametrize("fail_at", [0, 2])
def test_a_piece_that_fails_leaves_no_file(tmp_path: Path, fail_at: int) -> None:
    """Whether the listing fails before any piece was written or while one is being written."""

    def pieces():
        for k, table in enumerate(_pieces([4, 4, 4])):
            if k == fail_at:
                raise RuntimeError("listing failed")
            yield table

    with pytest.raises(RuntimeError, match="listing failed"):
        write_tables(tmp_path / "edges.parquet", SCHEMA, pieces())
    assert list(tmp_path.iterdir()) == []


def test_a_piece_the_writer_refuses_leaves_no_file(tmp_path: Path) -> None:
    bad = pa.table({"other": np.arange(3)})
    with pytest.raises((ValueError, pa.ArrowException)):
        write_tables(tmp_path / "edges.parquet", SCHEMA, iter([next(_pieces([2])), bad, next(_pieces([2]))]))
    assert list(tmp_path.iterdir()) == []
