"""Reading a case's CSV files by columns: the untidiness a converter plausibly leaves is read, the
rest is a ValueError naming the file and the line, and nothing reads differently from cell by cell."""

from __future__ import annotations

import csv
import gc
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from steadyops.core.heap import paused as paused_gc
from steadyops.rca import load_case, rank_case
from steadyops.rca.tables import floats, metric_table, seconds, to_seconds


def _write(folder: Path, files: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content if isinstance(content, str) else json.dumps(content))
    return folder


def test_columns_convert_exactly_as_float_does_and_gaps_are_missing_samples() -> None:
    cells = ("1.5", " 2 ", "1e-320", "0.1", "1652846930.123456789", "-0", "inf")
    assert floats(cells).tolist() == [float(c) for c in cells]
    mixed = floats(("1", "", "n/a", "  ", "3"))
    assert mixed[0] == 1.0 and mixed[4] == 3.0 and all(math.isnan(v) for v in mixed[1:4])


@pytest.mark.parametrize("unit", [None, "ms", "us"])
def test_a_column_of_times_is_to_seconds_of_each_cell(tmp_path: Path, unit: str | None) -> None:
    cells = ("12.5", "1700000000", "1700000000123", "1700000000123456", "1700000000123456789", "2023-11-14T22:13:20Z")
    if unit is not None:
        cells = cells[:5]  # an ISO time is absolute, whatever the unit of relative numbers
    column = seconds(cells, list(range(2, 2 + len(cells))), unit, tmp_path / "f.csv")
    assert column.tolist() == [to_seconds(c, unit) for c in cells]


def test_a_cell_that_is_no_time_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"f\.csv:5: bad time: .*'soon'"):
        seconds(("1", "2", "soon"), [3, 4, 5], None, tmp_path / "f.csv")
    with pytest.raises(ValueError, match=r"f\.csv:3: bad time: not a time: 'nan'"):
        seconds(("nan",), [3], None, tmp_path / "f.csv")


def test_untidy_metrics_read_in_time_order_one_row_per_time(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_bytes(
        "\ufefftime,a:cpu,a:const,a:empty,b:mem,host,Timestamp\n"  # a byte-order mark before the header
        "30,3,7,,30,node-1,1970-01-01T00:00:30Z\n"
        "10,1,7,,10,node-1,1970-01-01T00:00:10Z\n"
        "\n"  # a blank line
        "20,2,7,,,node-2,1970-01-01T00:00:20Z\n"
        "20,4,7,,20,node-2,1970-01-01T00:00:20Z\n"  # the same time again: an empty cell takes the other's
        "40,5\n".encode()  # a short row: the cells it lacks are missing samples
    )
    times, columns = metric_table(path, None)
    assert set(columns) == {"a:cpu", "a:const", "a:empty", "b:mem", "host"}  # a second time is no metric
    assert times == [10.0, 20.0, 30.0, 40.0]
    assert columns["a:cpu"] == [1.0, 3.0, 3.0, 5.0]  # 20 s: the mean of 2 and 4
    assert columns["b:mem"][:3] == [10.0, 20.0, 30.0] and math.isnan(columns["b:mem"][3])
    assert columns["a:const"][:3] == [7.0, 7.0, 7.0]
    assert all(math.isnan(v) for v in columns["a:empty"] + columns["host"])


def test_constant_empty_and_text_columns_neither_crash_nor_lead(tmp_path: Path) -> None:
    rows = ["time,api:cpu,api:limit,api:gpu,db:latency,db:pod"]
    rows += [f"{i},{10 + i % 3},{2},,{5 + i % 2 + (40 if i >= 50 else 0)},db-0" for i in range(60)]
    folder = _write(tmp_path / "c", {
        "case.json": {"normal": [0, 49], "fault_start": 50},
        "metrics.csv": "\n".join([rows[0], *reversed(rows[1:])]) + "\n",  # newest first
        "topology": "api -> db\n",
    })
    case = load_case(folder)
    assert case.times == sorted(case.times)
    assert rank_case(case).services()[0] == "db"


def test_messy_logs_read_with_their_quotes_commas_newlines_and_bad_bytes(tmp_path: Path) -> None:
    long = "x" * 200_000  # beyond csv's default field limit
    rows = [["ts", "service", "msg"], ["10", "api ", 'user="bo, jr" said "hi"'],
            ["11", "api", "Traceback:\n  at a\n  at b"], ["12", "api", long], ["13", "", "nobody's line"]]
    with (tmp_path / "logs.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with (tmp_path / "logs.csv").open("ab") as handle:
        handle.write(b'14,db,"caf\xe9 au lait"\n')  # latin-1, not UTF-8
    _write(tmp_path, {"case.json": {"normal": [0, 12], "fault_start": 13}})
    case = load_case(tmp_path)
    assert [(r.time, r.component) for r in case.logs] == [(10, "api"), (11, "api"), (12, "api"), (14, "db")]
    assert case.logs[0].message == 'user="bo, jr" said "hi"'
    assert case.logs[1].message == "Traceback:\n  at a\n  at b" and case.logs[2].message == long
    assert case.logs[3].message == "caf\ufffd au lait"


def test_a_bad_time_after_a_multiline_message_names_its_physical_line(tmp_path: Path) -> None:
    _write(tmp_path, {
        "case.json": {"normal": [0, 12], "fault_start": 13},
        "logs.csv": 'time,component,message\n10,api,"one\ntwo\nthree"\nlater,api,x\n',
    })
    with pytest.raises(ValueError, match=r"logs\.csv:5: bad time"):
        load_case(tmp_path)


def test_what_csv_itself_refuses_names_the_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("steadyops.rca.tables.FIELD_LIMIT", 100)
    old = csv.field_size_limit(100)
    try:
        _write(tmp_path, {
            "case.json": {"normal": [0, 12], "fault_start": 13},
            "logs.csv": "time,component,message\n10,api,ok\n11,api," + "y" * 500 + "\n",
        })
        with pytest.raises(ValueError, match=r"logs\.csv:3: not CSV: field larger than field limit"):
            load_case(tmp_path)
    finally:
        csv.field_size_limit(old)


def test_status_codes_of_every_common_export_and_spans_whose_parent_is_elsewhere(tmp_path: Path) -> None:
    rows = ["startTime,traceID,spanID,parentSpanID,serviceName,operationName,duration_ms,statusCode"]
    codes = {"ok": ("STATUS_CODE_UNSET", "OK", "200", "", "STATUS_CODE_OK"),
             "failed": ("STATUS_CODE_ERROR", "Error", "500", "503.0", "2")}
    n = 0
    for t in range(0, 600, 2):  # jaeger's start in microseconds; every api span's parent was not sampled
        failing = t >= 480
        for code in codes["failed" if failing else "ok"]:
            n += 1
            rows.append(f"{(1_700_000_000 + t) * 10**6},t{n},s{n},gone{n},api,GET /x,{3 + t % 5},{code}")
            rows.append(f"{(1_700_000_000 + t) * 10**6},t{n},c{n},s{n},db,SELECT,1,STATUS_CODE_UNSET")
    _write(tmp_path, {
        "case.json": {"normal": [1_700_000_000, 1_700_000_419], "fault_start": 1_700_000_480},
        "traces.csv": "\n".join(rows) + "\n",
    })
    case = load_case(tmp_path)
    assert case.spans[0].time == 1_700_000_000 and case.spans[0].parent_span_id == "gone1"
    result = rank_case(case)
    assert result.services()[0] == "api"
    assert "api:span_error_origin_rate" in result.candidates[0].evidence


def test_case_json_that_is_not_what_it_should_be_says_so(tmp_path: Path) -> None:
    _write(tmp_path / "a", {"case.json": {"normal": [0, 1], "fault_start": 2, "labels": ["x"]},
                            "metrics.csv": "time,a:cpu\n0,1\n"})
    with pytest.raises(ValueError, match=r"case\.json: 'labels' must be an object"):
        load_case(tmp_path / "a")
    _write(tmp_path / "b", {"case.json": b'{"normal": [0, 1], "fault_start": 2, "source": "caf\xe9"}',
                            "metrics.csv": "time,a:cpu\n0,1\n"})
    with pytest.raises(ValueError, match=r"case\.json: not UTF-8"):
        load_case(tmp_path / "b")
    _write(tmp_path / "c", {"case.json": {"normal": [0, 1], "fault_start": 2},
                            "metrics.csv": "time,a:cpu\n0,1\n", "topology": "# calls\na -> b\nb c\n"})
    with pytest.raises(ValueError, match=r"topology:3: expected 'caller -> callee'"):
        load_case(tmp_path / "c")


def test_the_collector_is_paused_only_while_reading() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError
    assert gc.isenabled()


def test_numbers_round_trip_bit_for_bit(tmp_path: Path) -> None:
    values = np.random.default_rng(1).normal(0.0, 1e6, (50, 3))
    lines = ["time,a:x,a:y,a:z", *(f"{i}," + ",".join(repr(float(v)) for v in row) for i, row in enumerate(values))]
    (tmp_path / "metrics.csv").write_text("\n".join(lines) + "\n")
    _, columns = metric_table(tmp_path / "metrics.csv", None)
    assert columns["a:y"] == values[:, 1].tolist()
