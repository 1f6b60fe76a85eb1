"""Release input and output: the COPY fast path and its fallback, CSV export, delivery zips.

A release is loaded cell by cell on SQLite (``parse_rows``) and as ``COPY`` text on PostgreSQL
(``copy_text``, which passes plain rows through unparsed). Both must store what the cell parsers
give and refuse what they refuse, with the line and column. ``export_csv`` (``COPY ... TO STDOUT``
on PostgreSQL) and ``_export_csv_python`` must write the same CSV, in source order, and a delivery
is a stored zip whose hashes are the ones recorded.
"""

import csv
import datetime
import hashlib
import io
import json
import random
import re
import zipfile
from decimal import Decimal

import pytest
from django.db import connection

from access_requests import services as request_services
from catalog import release_store, release_validation, services
from catalog.models import Release
from catalog.release_validation import Report
from rights.models import Grant
from sharing.deliveries import deliveries_dispatch, delivery_build
from sharing.models import Delivery
from tests.conftest import ITEMS, csv_upload, request_data

HEADER = "resident_id,birth_date,dose_number,fee,adverse_event\n"
NAMES = ["resident_id", "birth_date", "dose_number", "fee", "adverse_event"]
GOOD_ROW = "R1,1980-01-01,1,12.50,false\n"
D = datetime.date


def release_state(resource):
    tables = set(connection.introspection.table_names())
    return (
        list(Release.objects.filter(resource=resource).values_list("sequence", "sha256")),
        sorted(t for t in tables if t.startswith("catalog_release_rows_")),
    )


def item_columns():
    return [{"name": i["name"], "type": i["type"], "required": i["required"]} for i in ITEMS]


def normalise(row):
    """A stored row as Python values, whatever the backend (SQLite keeps decimals and dates as
    text and booleans as 0/1)."""
    line, resident, birth, dose, fee, adverse = row
    if connection.vendor == "postgresql":
        assert birth is None or type(birth) is datetime.date
        assert fee is None or isinstance(fee, Decimal)
        assert adverse is None or isinstance(adverse, bool)
    if isinstance(birth, str):
        birth = datetime.date.fromisoformat(birth)
    if fee is not None:
        fee = Decimal(fee)
    if adverse is not None:
        adverse = bool(adverse)
    return (line, resident, birth, dose, fee, adverse)


def exported(function, *args):
    """Run an export writer; returns (parsed CSV rows, returned row count)."""
    blocks = []
    count = function(*args, lambda block: blocks.append(bytes(block)))
    text = b"".join(blocks).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), strict=True)), count


def both_exports(release, names=None):
    names = names or release.column_names
    booleans = {c["name"] for c in release.columns if c["type"] == "boolean"}
    copy_rows, copy_count = exported(
        release_store.export_csv, release.table_name, release.columns, names
    )
    python_rows, python_count = exported(
        release_store._export_csv_python, release.table_name, names, booleans
    )
    return (copy_rows, copy_count), (python_rows, python_count)


# --- 1. plain and slow rows load to the parsers' values -------------------------------------

# (CSV record, expected values): plain rows (passed through as COPY text) and slow rows (parsed
# cell by cell, then written from their values) interleaved.
MIXED = [
    ("R001,1980-02-29,1,12.50,false\n", ("R001", D(1980, 2, 29), 1, "12.50", False)),
    ("R002,1975-12-01, 7 ,-0.50,YES\n", ("R002", D(1975, 12, 1), 7, "-0.50", True)),
    ("R003,2001-07-15,+3,.5,n\n", ("R003", D(2001, 7, 15), 3, "0.5", False)),
    ('"R,004",0099-03-04,007, 3.25 ,T\n', ("R,004", D(99, 3, 4), 7, "3.25", True)),
    (
        "R005,1990-01-01,9223372036854775807,1e2,1\n",
        ("R005", D(1990, 1, 1), 2**63 - 1, "100", True),
    ),
    (
        '"say ""hi""",1990-01-02,-9223372036854775808,1234567890123456789.1234567890123456789,0\n',
        (
            'say "hi"',
            D(1990, 1, 2),
            -(2**63),
            "1234567890123456789.1234567890123456789",
            False,
        ),
    ),
    ('"two\nlines",1990-01-03,2,,\n', ("two\nlines", D(1990, 1, 3), 2, None, None)),
    ('"tab\there",1990-01-04,3,0,y\n', ("tab\there", D(1990, 1, 4), 3, "0", True)),
    ("C:\\new\\table,1990-01-05,4,-1.5,N\n", ("C:\\new\\table", D(1990, 1, 5), 4, "-1.5", False)),
    ("张三,1990-01-06,5,,f\n", ("张三", D(1990, 1, 6), 5, None, False)),
    (
        '"carriage\rreturn",1990-01-07,6,1e-5,TRUE\n',
        ("carriage\rreturn", D(1990, 1, 7), 6, "0.00001", True),
    ),
    ("R012,1990-01-08,6,,\n", ("R012", D(1990, 1, 8), 6, None, None)),
    (
        '"  padded  ",9999-12-31, -12 ,+0.10,no\n',
        ("  padded  ", D(9999, 12, 31), -12, "0.10", False),
    ),
    ("\\.,1990-01-09,8,,\n", ("\\.", D(1990, 1, 9), 8, None, None)),
]


def mixed_csv():
    text, expected, line = HEADER, [], 1
    for record, values in MIXED:
        text += record
        line += record.count("\n")
        resident, birth, dose, fee, adverse = values
        expected.append(
            (line, resident, birth, dose, None if fee is None else Decimal(fee), adverse)
        )
    return text, expected


def test_plain_and_slow_rows_load_to_the_values_the_cell_parsers_give(
    published, steward, monkeypatch
):
    # Small COPY chunks, so plain and slow rows share chunks and several chunks are sent.
    monkeypatch.setattr(release_validation, "COPY_CHUNK_ROWS", 3)
    text, expected = mixed_csv()
    raw = text.encode()
    # The expectations are what the cell parsers give.
    parser_report = Report(max_errors=10)
    parsed = list(release_validation.parse_rows(io.BytesIO(raw), item_columns(), parser_report))
    assert parser_report.ok
    assert [(line, *values) for line, values in parsed] == expected
    # Both paths are taken: plain rows go to COPY as written, the others from parsed values.
    copy = b"".join(release_validation.copy_text(io.BytesIO(raw), item_columns(), Report(10)))
    assert b"3\tR002\t1975-12-01\t 7 \t-0.50\tYES\n" in copy
    assert b"6\tR005\t1990-01-01\t9223372036854775807\t1E+2\ttrue\n" in copy
    assert b"\tC:\\\\new\\\\table\t" in copy

    release = services.release_ingest(actor=steward, resource=published, upload=csv_upload(text))

    assert release.row_count == len(MIXED) == release.report["rows"]
    assert release.report["accepted"] is True
    assert release.report["errors"] == []
    assert release.sha256 == hashlib.sha256(raw).hexdigest()
    assert release_store.count_rows(release.table_name) == len(MIXED)
    stored = [normalise(r) for r in release_store.iter_rows(release.table_name, ["_line", *NAMES])]
    assert stored == expected
    lines = [row[0] for row in stored]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    # Decimals keep their scale; text comes back byte for byte.
    fees = {row[0]: row[3] for row in release_store.iter_rows(release.table_name, NAMES)}
    assert str(Decimal(fees["R001"])) == "12.50"
    assert str(Decimal(fees["R002"])) == "-0.50"
    assert str(Decimal(fees["  padded  "])) == "0.10"
    assert str(Decimal(fees['say "hi"'])) == "1234567890123456789.1234567890123456789"


# --- 2. bad values: line and column, nothing stored -----------------------------------------

MANY = GOOD_ROW * 5000
BAD = [
    (
        "NUL in a string",
        HEADER + GOOD_ROW + "R\x002,1980-01-01,1,,false\n" + GOOD_ROW,
        3,
        "resident_id",
        "the text contains a NUL character",
    ),
    (
        "decimal exponent too large",
        HEADER + GOOD_ROW + "R2,1980-01-01,1,1e200000,false\n",
        3,
        "fee",
        "'1e200000' is out of the decimal range",
    ),
    (
        "decimal exponent too small",
        HEADER + GOOD_ROW + "R2,1980-01-01,1,1e-20000,false\n",
        3,
        "fee",
        "'1e-20000' is out of the decimal range",
    ),
    (
        "29 February 2021 on an otherwise plain row",
        HEADER + GOOD_ROW * 2 + "R3,2021-02-29,1,12.50,false\n" + GOOD_ROW,
        4,
        "birth_date",
        "'2021-02-29' is not a date (expected YYYY-MM-DD)",
    ),
    (
        "slow-path bad cell after 5000 plain rows",
        HEADER + MANY + "R5,1980-01-01,x,,false\n" + GOOD_ROW * 10,
        5002,
        "dose_number",
        "'x' is not a whole number",
    ),
    (
        "plain-looking bad date after 5000 plain rows",
        HEADER + MANY + "R5,2021-13-01,1,,false\n" + GOOD_ROW * 10,
        5002,
        "birth_date",
        "'2021-13-01' is not a date (expected YYYY-MM-DD)",
    ),
]


@pytest.mark.parametrize(
    ("kind", "text", "line", "column", "message"), BAD, ids=[b[0] for b in BAD]
)
def test_bad_value_is_reported_with_line_and_column_and_nothing_is_stored(
    released, steward, kind, text, line, column, message
):
    before = release_state(released)
    with pytest.raises(services.ReleaseRejected) as caught:
        services.release_ingest(actor=steward, resource=released, upload=csv_upload(text))
    report = caught.value.report
    assert report["accepted"] is False
    assert report["errors"] == [{"line": line, "column": column, "message": message}]
    assert release_state(released) == before
    assert released.releases.count() == 1


def test_every_problem_is_listed_also_plain_looking_ones_after_the_first(released, steward):
    """After the first problem nothing more is loaded, but the report must still list the later
    problems, as parse_rows does (bug on PostgreSQL: a row that passes the quick check is no
    longer checked once loading has stopped, so 2021-02-30 there goes unreported)."""
    text = (
        HEADER
        + GOOD_ROW
        + "R2,1980-01-01,x,,false\n"
        + GOOD_ROW
        + "R4,2021-02-30,1,12.50,false\n"
        + "R5,1980-01-01,1,12.50,maybe\n"
    )
    before = release_state(released)
    with pytest.raises(services.ReleaseRejected) as caught:
        services.release_ingest(actor=steward, resource=released, upload=csv_upload(text))
    assert caught.value.report["errors"] == [
        {"line": 3, "column": "dose_number", "message": "'x' is not a whole number"},
        {
            "line": 5,
            "column": "birth_date",
            "message": "'2021-02-30' is not a date (expected YYYY-MM-DD)",
        },
        {
            "line": 6,
            "column": "adverse_event",
            "message": "'maybe' is not a yes/no value (use true or false)",
        },
    ]
    assert release_state(released) == before


@pytest.mark.postgres
def test_a_value_only_postgres_refuses_gets_a_generic_error_and_nothing_is_stored(
    released, steward, monkeypatch
):
    # A date parser that lets everything through: only PostgreSQL can refuse 2021-02-29 now.
    monkeypatch.setitem(release_validation.PARSERS, "date", lambda text: text)
    before = release_state(released)
    text = HEADER + GOOD_ROW + "R3,2021-02-29,1,,false\n"
    with pytest.raises(services.ReleaseRejected) as caught:
        services.release_ingest(actor=steward, resource=released, upload=csv_upload(text))
    (error,) = caught.value.report["errors"]
    assert (error["line"], error["column"]) == (None, "")
    assert error["message"].startswith("the database refused a value: ")
    assert "2021-02-29" in error["message"]
    assert release_state(released) == before


# --- 3. copy_text itself --------------------------------------------------------------------

UNIT_ITEMS = [
    {"name": "name", "type": "string", "required": True},
    {"name": "n", "type": "integer", "required": False},
    {"name": "flag", "type": "boolean", "required": False},
    {"name": "day", "type": "date", "required": False},
    {"name": "amount", "type": "decimal", "required": False},
]
UNIT_CSV = (
    "n,flag,name,day,amount\n"
    " 7 ,YES,plain,2024-01-31,12.50\n"  # plain: cells pass as they are
    ',n,"tab\there",,\n'  # slow: parsed, escaped, NULL as empty
    '3,,"back\\slash and\nnewline",2024-02-01,1e2\n'  # slow, two physical lines
    ',,"cr\rhere",,\n'
    "+8,1,张三,,.5\n"  # plain, non-ASCII
)
UNIT_COPY = (
    "2\tplain\t 7 \tYES\t2024-01-31\t12.50\n"
    "3\ttab\\there\t\tfalse\t\t\n"
    "5\tback\\\\slash and\\nnewline\t3\t\t2024-02-01\t1E+2\n"
    "6\tcr\\rhere\t\t\t\t\n"
    "7\t张三\t+8\t1\t\t.5\n"
).encode()
_UNESCAPE = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def decode_copy_text(data, items):
    """Read COPY text back as PostgreSQL would, with the cell parsers standing in for its
    input functions: ``[(line, [value, ...])]``."""
    rows = []
    for record in data.decode("utf-8").split("\n")[:-1]:
        line, *cells = record.split("\t")
        values = []
        for cell, item in zip(cells, items, strict=True):
            if cell == "":
                values.append(None)
                continue
            cell = re.sub(r"\\[\\tnr]", lambda m: _UNESCAPE[m.group()], cell)
            values.append(release_validation.PARSERS[item["type"]](cell))
        rows.append((int(line), values))
    return rows


def test_copy_text_passes_plain_rows_through_and_escapes_parsed_ones():
    raw = UNIT_CSV.encode()
    report = Report(max_errors=10)
    chunks = list(release_validation.copy_text(io.BytesIO(raw), UNIT_ITEMS, report))
    assert b"".join(chunks) == UNIT_COPY
    assert report.ok
    assert (report.row_count, report.size_bytes) == (5, len(raw))
    assert report.sha256 == hashlib.sha256(raw).hexdigest()
    # What COPY would read back is what parse_rows yields.
    parsed_report = Report(max_errors=10)
    parsed = list(release_validation.parse_rows(io.BytesIO(raw), UNIT_ITEMS, parsed_report))
    assert decode_copy_text(UNIT_COPY, UNIT_ITEMS) == parsed
    assert parsed[1] == (3, ["tab\there", None, False, None, None])
    assert parsed[2][1][0] == "back\\slash and\nnewline"


def test_copy_text_chunks_and_a_single_column(monkeypatch):
    monkeypatch.setattr(release_validation, "COPY_CHUNK_ROWS", 2)
    chunks = list(
        release_validation.copy_text(io.BytesIO(UNIT_CSV.encode()), UNIT_ITEMS, Report(10))
    )
    assert [chunk.count(b"\n") for chunk in chunks] == [2, 2, 1]
    assert all(chunk.endswith(b"\n") for chunk in chunks)
    assert b"".join(chunks) == UNIT_COPY

    single = [{"name": "only", "type": "integer", "required": True}]
    report = Report(max_errors=10)
    data = b"".join(
        release_validation.copy_text(io.BytesIO(b"only\n1\n 2 \n1_0\n"), single, report)
    )
    assert data == b"2\t1\n3\t 2 \n4\t10\n"
    assert report.ok and report.row_count == 3


def test_copy_text_stops_loading_at_the_first_problem_and_lists_the_rest(monkeypatch):
    monkeypatch.setattr(release_validation, "COPY_CHUNK_ROWS", 2)
    text = (
        "n,flag,name,day,amount\n"
        "1,,a,,\n"
        "2,,b,,\n"
        "3,,c,,\n"  # in the chunk pending when the problem is found: never sent
        "x,,d,,\n"
        "5,,e,,\n"
        ",x,f,,\n"
        "7,,g,,\n"
    )
    report = Report(max_errors=10)
    chunks = list(release_validation.copy_text(io.BytesIO(text.encode()), UNIT_ITEMS, report))
    assert chunks == [b"2\ta\t1\t\t\t\n3\tb\t2\t\t\t\n"]
    assert report.errors == [
        {"line": 5, "column": "n", "message": "'x' is not a whole number"},
        {"line": 7, "column": "flag", "message": "'x' is not a yes/no value (use true or false)"},
    ]
    assert report.row_count == 7
    assert report.sha256 == hashlib.sha256(text.encode()).hexdigest()  # read to its end


def test_copy_text_sends_nothing_for_a_bad_header():
    report = Report(max_errors=10)
    data = list(release_validation.copy_text(io.BytesIO(b"name,n\nx,1\n"), UNIT_ITEMS, report))
    assert data == []
    assert [e["column"] for e in report.errors] == ["flag", "day", "amount"]


# --- 4. CSV export: COPY and the Python writer agree ----------------------------------------

FEES = [("12.50", "12.50"), ("", ""), ("0", "0"), ("-3.125", "-3.125"), ("1e2", "100")]
FLAGS = [("true", "true"), ("false", "false"), ("", ""), ("YES", "true"), ("n", "false")]


def big_release_csv(count, seed=20240131):
    """``count`` records in a shuffled id order, with the awkward values sprinkled in; returns the
    CSV and the expected exported rows (in source order)."""
    chooser = random.Random(seed)
    ids = list(range(count))
    chooser.shuffle(ids)
    lines, expected = [HEADER], [NAMES]
    for position, number in enumerate(ids):
        resident = f"P{number:05d}"
        if position % 7 == 3:
            resident = f'P{number}, "quoted"\nnext line'
        elif position % 11 == 5:
            resident = f"名字{number}"
        birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=chooser.randrange(20000))
        dose = chooser.randrange(-5, 10**12)
        fee, fee_out = FEES[position % len(FEES)]
        flag, flag_out = FLAGS[position % len(FLAGS)]
        quoted = '"' + resident.replace('"', '""') + '"'
        lines.append(f"{quoted},{birth.isoformat()},{dose},{fee},{flag}\n")
        expected.append([resident, birth.isoformat(), str(dose), fee_out, flag_out])
    return "".join(lines), expected


@pytest.mark.postgres
def test_copy_export_and_python_export_write_the_same_csv_in_source_order(published, steward):
    text, expected = big_release_csv(4500)
    release = services.release_ingest(actor=steward, resource=published, upload=csv_upload(text))
    assert release.row_count == 4500
    (copy_rows, copy_count), (python_rows, python_count) = both_exports(release)
    assert copy_count == python_count == 4500
    assert copy_rows == python_rows
    assert copy_rows == expected
    # A subset of the columns, in another order.
    names = ["adverse_event", "resident_id", "fee"]
    (copy_rows, _), (python_rows, _) = both_exports(release, names)
    assert copy_rows == python_rows == [[row[4], row[0], row[3]] for row in expected]


def test_exports_quote_a_lone_carriage_return(published, steward):
    """A text value with a CR and no LF must survive the CSV export (bug: the Python writer,
    with lineterminator "\\n", leaves such a field unquoted)."""
    text = HEADER + '"cr\ronly",1990-01-01,1,,true\nR2,1990-01-02,2,,false\n'
    release = services.release_ingest(actor=steward, resource=published, upload=csv_upload(text))
    stored = list(release_store.iter_rows(release.table_name, ["resident_id"]))
    assert stored == [("cr\ronly",), ("R2",)]
    want = [
        NAMES,
        ["cr\ronly", "1990-01-01", "1", "", "true"],
        ["R2", "1990-01-02", "2", "", "false"],
    ]
    (copy_rows, _), (python_rows, _) = both_exports(release)
    assert copy_rows == want
    assert python_rows == want


def test_exports_write_small_decimals_in_plain_notation(published, steward):
    """Decimals are exported as PostgreSQL writes them (bug: the Python writer, and SQLite's
    stored text, use str(Decimal): 1E-7 for 0.0000001, 1E+2 for 1e2)."""
    text = HEADER + "R1,1990-01-01,1,0.0000001,\nR2,1990-01-02,2,1e2,\n"
    release = services.release_ingest(actor=steward, resource=published, upload=csv_upload(text))
    want = [["resident_id", "fee"], ["R1", "0.0000001"], ["R2", "100"]]
    (copy_rows, _), (python_rows, _) = both_exports(release, ["resident_id", "fee"])
    assert copy_rows == want
    assert python_rows == want


# --- 5. a delivery zip ----------------------------------------------------------------------


@pytest.fixture
def copy_grant(released, requester, steward, reviewer, departments):
    request = request_services.request_create(
        actor=requester,
        department=departments["CIVIL"],
        resource=released,
        data=request_data(method="periodic_copy", frequency="daily"),
        items=[
            {"name": "resident_id", "reason": "To match the pupil."},
            {"name": "dose_number", "reason": "To check the schedule."},
            {"name": "birth_date", "reason": "To confirm identity."},
        ],
    )
    request_services.request_submit(actor=requester, request=request)
    request_services.request_endorse(actor=steward, request=request)
    request_services.request_approve(actor=reviewer, request=request)
    return Grant.objects.get(request=request)


def test_delivery_zip_is_stored_streamed_and_hashed_as_recorded(copy_grant, steward):
    text, expected = big_release_csv(3000, seed=7)
    release = services.release_ingest(
        actor=steward, resource=copy_grant.resource, upload=csv_upload(text)
    )
    (delivery,) = deliveries_dispatch()
    delivery = delivery_build(delivery.pk)
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert delivery.release == release
    with delivery.file.open("rb") as handle:
        raw = handle.read()
    assert hashlib.sha256(raw).hexdigest() == delivery.file_sha256
    assert len(raw) == delivery.size_bytes
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["data.csv", "manifest.json"]
        info = archive.getinfo("data.csv")
        assert info.compress_type == zipfile.ZIP_STORED
        assert info.flag_bits & 0x08  # sizes and CRC in a data descriptor: written streaming
        data = archive.read("data.csv")
        manifest = json.loads(archive.read("manifest.json"))
    assert info.file_size == info.compress_size == len(data)
    assert hashlib.sha256(data).hexdigest() == delivery.sha256 == manifest["data_sha256"]
    assert manifest["row_count"] == delivery.row_count == 3000
    assert manifest["release"]["sha256"] == release.sha256
    fields = list(copy_grant.fields)
    assert manifest["items"] == fields
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), strict=True))
    positions = [NAMES.index(name) for name in fields]
    assert rows == [[row[i] for i in positions] for row in expected]


@pytest.mark.parametrize("year", [1999, 2000, 2023, 2024, 1900])
def test_the_plain_date_pattern_accepts_only_real_dates(year):
    """Every date string the quick check passes is a real date; every real date but 29 February
    passes it (that one is left to the parser, which knows leap years)."""
    plain = re.compile(release_validation._PLAIN["date"], re.ASCII).fullmatch
    for month in range(0, 14):
        for day in range(0, 33):
            text = f"{year:04d}-{month:02d}-{day:02d}"
            try:
                real = datetime.date.fromisoformat(text) is not None
            except ValueError:
                real = False
            if plain(text):
                assert real, text
            else:
                assert not real or (month, day) == (2, 29), text
    assert not plain("0000-01-01")
