"""The atomic Parquet writer of pieces (`sim.run.io.write_tables`): order, row groups, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.run.io import ParquetStream, write_tables

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


def _encodings(path: Path, column: int) -> set[str]:
    meta = pq.ParquetFile(path).metadata
    return {e for k in range(meta.num_row_groups) for e in meta.row_group(k).column(column).encodings}


def test_a_stream_stores_the_columns_it_is_told_with_a_dictionary(tmp_path: Path) -> None:
    """ParquetStream's `dictionary`: those columns dictionary-encoded (beside step), the others plain; same values."""
    schema = pa.schema([("seed", pa.int64()), ("rate", pa.float64()), ("step", pa.int32()), ("value", pa.float64())])
    table = pa.table(
        {
            "seed": np.repeat([3, 4], 500),
            "rate": np.repeat([0.1, 0.3], 500),
            "step": np.arange(1000) % 50,
            "value": np.linspace(0, 1, 1000),
        },
        schema=schema,
    )
    for told, path in (((), tmp_path / "plain.parquet"), (("seed", "rate"), tmp_path / "dict.parquet")):
        stream = ParquetStream(path, schema, group_rows=400, dictionary=told)
        for k in range(0, 1000, 250):
            stream.write(table.slice(k, 250))
        stream.close()
        assert pq.read_table(path).equals(table)
    for column, name in enumerate(schema.names):
        dictionary = any("DICT" in e for e in _encodings(tmp_path / "dict.parquet", column))
        assert dictionary == (name in ("seed", "rate", "step")), name
    assert not any("DICT" in e for e in _encodings(tmp_path / "plain.parquet", 0))
