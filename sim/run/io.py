"""Atomic writers: every output appears complete under its final name or not at all.

Files are written to a temporary name in the same directory and renamed at the end, so a run that
fails or is killed never leaves a half-written file that a reader could take for a result.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path; rename it to `path` if the block succeeds, delete it otherwise."""
    path = Path(path)
    tmp = _tmp(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Strict JSON: NaN and infinities (undefined metrics) are written as null."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_finite(data), indent=2, sort_keys=True, default=_jsonable, allow_nan=False) + "\n")


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value)}")


def write_table(path: str | os.PathLike, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", use_dictionary=_repetitive(table.schema))


def write_tables(path: str | os.PathLike, schema: pa.Schema, tables: Iterable[pa.Table]) -> None:
    """As `write_table`, for a table given in pieces (each its own row group): at most two pieces in memory.

    Each piece is encoded and compressed on a background thread while the next one is made (pyarrow
    and the compiled edge list both release the GIL): the ties of ten million agents are written while
    they are listed, not after.
    """
    with atomic_path(path) as tmp:
        with (
            pq.ParquetWriter(tmp, schema, compression="zstd", use_dictionary=_repetitive(schema)) as writer,
            ThreadPoolExecutor(1, thread_name_prefix=f"write-{Path(path).name}") as pool,
        ):
            job: Future | None = None
            for table in tables:
                if job is not None:
                    job.result()
                job = pool.submit(writer.write_table, table)
            if job is not None:
                job.result()


def _repetitive(schema: pa.Schema) -> list[str]:
    """Columns worth a dictionary: `step` and dictionary types (for a million distinct values it is only work)."""
    return [f.name for f in schema if f.name == "step" or pa.types.is_dictionary(f.type)]


class ParquetStream:
    """A Parquet file written in row groups as a run goes, renamed into place on `close`.

    Keeps memory bounded for long runs: small tables (a step's tie events) are held until they add
    up to `group_rows` rows and written as one row group; a large one (an agent snapshot) goes out
    at once. Row groups are encoded and compressed on a background thread while the run goes on
    (pyarrow releases the GIL); at most one is in flight, and its error, if any, is raised by the
    next `write` or by `close`. `dictionary` names more columns to store with a dictionary (beside
    `step` and the dictionary types): columns that repeat a few values, such as a sweep's swept keys in
    its collected metrics (one value per run: a dictionary stores it once per row group instead of once
    per row, about a quarter of the time to encode).
    """

    def __init__(
        self, path: str | os.PathLike, schema: pa.Schema, group_rows: int = 1 << 20, dictionary: Iterable[str] = ()
    ) -> None:
        self.path = Path(path)
        self.tmp = _tmp(self.path)
        self.schema = schema
        self.group_rows = group_rows
        self._pending: list[pa.Table] = []
        self._rows = 0
        encoded = _repetitive(schema)
        encoded += [name for name in dictionary if name not in encoded]
        self._writer = pq.ParquetWriter(self.tmp, schema, compression="zstd", use_dictionary=encoded)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"write-{self.path.name}")
        self._job: Future | None = None

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._pending.append(table.cast(self.schema))
            self._rows += table.num_rows
            if self._rows >= self.group_rows:
                self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._wait()
            self._job = self._thread.submit(self._writer.write_table, pa.concat_tables(self._pending))
            self._pending, self._rows = [], 0

    def _wait(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.result()

    def close(self) -> None:
        try:
            self._flush()
            self._wait()
        finally:
            self._thread.shutdown()
        self._writer.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._wait()
        self._thread.shutdown()
        with contextlib.suppress(Exception):
            self._writer.close()
        self.tmp.unlink(missing_ok=True)
