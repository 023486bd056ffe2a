"""events.parquet's rows gathered over steps (sim.run.outputs.EventLog): the rows of one table per step, in order."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sim.core.report import EVENT_KINDS
from sim.model import ResocializationModel
from sim.run import outputs


class Stream:
    def __init__(self) -> None:
        self.tables: list[pa.Table] = []

    def write(self, table: pa.Table) -> None:
        self.tables.append(table)


@pytest.mark.parametrize("rows", [1, 7, 10**9])  # a table at every step with events, every few, only at the end
def test_the_log_holds_the_rows_of_each_step_in_order(small_cfg, rows: int) -> None:
    model = ResocializationModel(small_cfg)
    stream = Stream()
    log = outputs.EventLog(stream, rows=rows)  # type: ignore[arg-type]
    per_step = []
    for t in range(1, 9):
        model.step()
        log.add(t, model.last_report)
        src, dst, kind = model.last_report.event_table()
        kinds = pa.DictionaryArray.from_arrays(pa.array(kind, pa.int8()), pa.array(list(EVENT_KINDS)))
        step = pa.array([t] * len(src), pa.int32())
        per_step.append(pa.table({"step": step, "source": src, "target": dst, "kind": kinds}, outputs.EVENT_SCHEMA))
        assert model.last_report.event_table() is model.last_report.event_table()  # built once, shared
    log.flush()
    expected = pa.concat_tables(per_step).combine_chunks()
    assert expected.num_rows > 0
    got = pa.concat_tables(stream.tables).combine_chunks()
    assert got.schema == outputs.EVENT_SCHEMA and got.equals(expected)
    if rows == 10**9:
        assert len(stream.tables) == 1
    else:
        assert all(t.num_rows >= rows for t in stream.tables[:-1])
