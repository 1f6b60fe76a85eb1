"""Streaming validation of a release CSV against the resource's data items.

The file is read once, in constant memory, whatever its size: each cell is parsed to its Python
type and every problem is reported with its line and column, up to a cap. ``parse_rows`` yields the
parsed rows as it goes, so a release is validated and loaded in one pass.

``copy_text`` is the same pass for PostgreSQL: it yields the clean rows as ``COPY`` text, and for a
row whose cells all have the plain form of their type (``12``, ``12.50``, ``2024-01-31``, ``true``,
text without tabs, line breaks or backslashes) it checks the whole row with one regular expression
and passes the cells through as they are, instead of parsing each cell into a Python object that
the driver would then turn back into text. A row that does not match is parsed cell by cell as
``parse_rows`` does: it either gets its errors reported or is written from its parsed values. What
the quick check lets through is a subset of what the cell parsers accept, so the report is the
same as theirs. Should PostgreSQL refuse a value all the same, ``release_store.load_release``
rolls the load back and reads the file again cell by cell, so the report names line and column.
"""

import csv
import datetime
import hashlib
import io
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any, NotRequired, TypedDict

from django.utils.translation import gettext as _

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
TRUE_WORDS = {"true", "1", "yes", "y", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "f"}
MAX_DECIMAL_DIGITS = 38
# PostgreSQL's numeric keeps up to 16383 digits after the point and 131072 before it.
MIN_DECIMAL_EXPONENT, MAX_DECIMAL_EXPONENT = -16383, 131000


class Column(TypedDict):
    """A data item as a release sees it: a column of the file and of the release table."""

    name: str
    type: str
    required: bool
    lookup_key: NotRequired[bool]


class Problem(TypedDict):
    line: int | None
    column: str
    message: str


class ReportDict(TypedDict):
    accepted: bool
    rows: int
    sha256: str
    size_bytes: int
    errors: list[Problem]
    error_count_capped: bool
    max_errors: int


# (position in the file, name, required, type) for each item, in items order
Plan = list[tuple[int, str, bool, str]]
Value = str | int | Decimal | datetime.date | bool | None


class CellError(ValueError):
    pass


def parse_string(text: str) -> str:
    if "\x00" in text:
        raise CellError(_("the text contains a NUL character"))
    return text


def parse_integer(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CellError(_("%(value)r is not a whole number") % {"value": text}) from None
    if not BIGINT_MIN <= value <= BIGINT_MAX:
        raise CellError(_("%(value)r is out of the 64-bit integer range") % {"value": text})
    return value


def parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellError(
            _("%(value)r is not a decimal number (use 1234.56)") % {"value": text}
        ) from None
    if not value.is_finite():
        raise CellError(_("%(value)r is not a finite number") % {"value": text})
    _sign, digits, exponent = value.as_tuple()
    if len(digits) > MAX_DECIMAL_DIGITS:
        raise CellError(_("%(value)r has more than 38 digits") % {"value": text})
    # A finite Decimal's exponent is an int (only NaN and infinities have 'n', 'N' or 'F').
    assert isinstance(exponent, int)
    if not MIN_DECIMAL_EXPONENT <= exponent <= MAX_DECIMAL_EXPONENT:
        raise CellError(_("%(value)r is out of the decimal range") % {"value": text})
    return value


def parse_date(text: str) -> datetime.date:
    try:
        if len(text) != 10:
            raise ValueError
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CellError(
            _("%(value)r is not a date (expected YYYY-MM-DD)") % {"value": text}
        ) from None


def parse_boolean(text: str) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(_("%(value)r is not a yes/no value (use true or false)") % {"value": text})


PARSERS: dict[str, Callable[[str], Value]] = {
    "string": parse_string,
    "integer": parse_integer,
    "decimal": parse_decimal,
    "date": parse_date,
    "boolean": parse_boolean,
}


@dataclass
class Report:
    max_errors: int
    errors: list[Problem] = field(default_factory=list)
    truncated: bool = False
    row_count: int = 0
    sha256: str = ""
    size_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def full(self) -> bool:
        return len(self.errors) >= self.max_errors

    def reset(self) -> None:
        """Forget what a pass found, before the file is read again."""
        self.errors, self.truncated = [], False
        self.row_count, self.sha256, self.size_bytes = 0, "", 0

    def add(self, line: int | None, column: str, message: object) -> None:
        if self.full:
            self.truncated = True
            return
        self.errors.append({"line": line, "column": column, "message": str(message)})

    def as_dict(self) -> ReportDict:
        return {
            "accepted": self.ok,
            "rows": self.row_count,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "errors": self.errors,
            "error_count_capped": self.truncated,
            "max_errors": self.max_errors,
        }


class _HashingReader(io.RawIOBase):
    """A binary reader that hashes and counts what passes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._raw.read(len(buffer))
        if not chunk:
            return 0
        self.digest.update(chunk)
        self.size += len(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)


class BadEncoding(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _decoded_lines(binary: io.RawIOBase) -> Iterator[str]:
    """Decode line by line, so an encoding error names its physical line. A BOM is dropped."""
    buffered = io.BufferedReader(binary, buffer_size=1 << 16)
    for number, raw in enumerate(buffered, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadEncoding(number) from None


def _text_rows(binary: io.RawIOBase) -> Any:  # csv's reader type is private to typeshed
    return csv.reader(_decoded_lines(binary), strict=True)


def _header_problems(header: list[str], items: Sequence[Column]) -> list[tuple[str, str]]:
    """Column problems: duplicated, unknown and missing columns."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    known = {item["name"] for item in items}
    for column in header:
        if column in seen:
            problems.append((column, _("the column appears more than once")))
        elif column not in known:
            problems.append((column, _("unknown column: the resource has no data item named so")))
        seen.add(column)
    for item in items:
        if item["name"] not in seen:
            problems.append(
                (item["name"], _("missing column for data item %(name)s") % {"name": item["name"]})
            )
    return problems


def _records(fileobj: IO[bytes], items: Sequence[Column], report: Report) -> Iterator[Any]:
    """The records of the file, checked for shape.

    Yields the plan (``[(position, name, required, type), ...]`` in ``items`` order) once the
    header is good, then ``(line, cells)`` for each record of the right width. Problems go to
    ``report``; when the file has been read to its end, ``report`` gets its hash and size.
    """
    fileobj.seek(0)
    hashing = _HashingReader(fileobj)
    rows = _text_rows(hashing)
    try:
        header = next(rows, None)
        if header is None:
            report.add(1, "", _("the file is empty; the first line must name the columns"))
            return
        header = [column.strip() for column in header]
        for column, message in _header_problems(header, items):
            report.add(1, column, message)
        if report.errors:
            return
        position = {name: index for index, name in enumerate(header)}
        yield [(position[i["name"]], i["name"], i["required"], i["type"]) for i in items]
        width = len(header)
        for row in rows:
            if not row:
                continue  # a blank line is not a record
            report.row_count += 1
            if len(row) != width:
                report.add(
                    rows.line_num,
                    "",
                    _("expected %(want)d values, found %(got)d") % {"want": width, "got": len(row)},
                )
                if report.truncated:
                    return
                continue
            yield rows.line_num, row
    except BadEncoding as exc:
        report.add(exc.line, "", _("the file is not valid UTF-8 text (save it as UTF-8 CSV)"))
        return
    except csv.Error as exc:
        report.add(rows.line_num, "", _("the CSV is malformed: %(error)s") % {"error": exc})
        return
    if report.row_count == 0 and not report.errors:
        report.add(2, "", _("the file has a header but no records"))
    report.sha256 = hashing.digest.hexdigest()
    report.size_bytes = hashing.size


def _parse_record(line: int, row: list[str], plan: Plan, report: Report) -> list[Value] | None:
    """The record's values in plan order, or None after reporting its problems."""
    values: list[Value] = []
    clean = True
    for index, name, required, type_ in plan:
        cell = row[index]
        if cell == "":
            if required:
                report.add(line, name, _("a value is required"))
                clean = False
            values.append(None)
            continue
        try:
            values.append(PARSERS[type_](cell))
        except CellError as exc:
            report.add(line, name, exc)
            clean = False
    return values if clean else None


def parse_rows(
    fileobj: IO[bytes], items: Sequence[Column], report: Report
) -> Iterator[tuple[int, list[Value]]]:
    """Read the file once: yield ``(line, [value, ...])`` in ``items`` order for each clean row
    while no problem has been found, and record every problem in ``report`` (up to its cap).

    When the generator is exhausted, ``report`` holds the row count, SHA-256 and size (if the
    file was read to its end) or the errors. ``items`` is a list of ``{"name", "type",
    "required"}``; the file is read from the start.
    """
    records = _records(fileobj, items, report)
    plan = next(records, None)
    if plan is None:
        return
    for line, row in records:
        values = _parse_record(line, row, plan, report)
        if report.truncated:
            return
        if values is not None and not report.errors:
            yield line, values


# The plain form of each type: every cell these match is one the cell parsers accept, and
# PostgreSQL reads it as they do, so skipping the parsers loses no problem. Anything else (spaces
# around a date, 1e5, a 19-digit integer, text with a tab or backslash...) takes the slow path.
# Text excludes what COPY's text format would need escaped, and NUL.
_PLAIN = {
    "string": r"[^\t\n\r\\\x00]",
    "integer": r" *[+-]?[0-9]{1,18} *",
    "decimal": r" *[+-]?(?:[0-9]{1,19}(?:\.[0-9]{0,19})?|\.[0-9]{1,19}) *",
    # Every date this matches exists (29 February goes to the slow path for its leap year).
    "date": (
        r"(?!0000)[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
        r"|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
    ),
    "boolean": r"(?i:true|false|yes|no|[10tfyn])",
}
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_CHUNK_ROWS = 4000


def _plain_row_pattern(plan: Plan) -> Callable[[str], re.Match[str] | None]:
    """One pattern for a whole record whose cells, in plan order, are joined by tabs."""
    parts = []
    for _index, _name, required, type_ in plan:
        if type_ == "string":
            cell = _PLAIN["string"] + ("+" if required else "*")
        else:
            cell = f"(?:{_PLAIN[type_]})" + ("" if required else "?")
        parts.append(cell)
    return re.compile("\t".join(parts), re.ASCII).fullmatch


def _copy_cell(value: Value) -> str:
    if value is None:
        return ""  # COPY ... WITH (NULL '')
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)  # int, Decimal, date (ISO)


def copy_text(fileobj: IO[bytes], items: Sequence[Column], report: Report) -> Iterator[bytes]:
    """Read the file once, as ``parse_rows`` does, and yield the clean rows as PostgreSQL ``COPY``
    text (``_line`` then the items in ``items`` order, tab-separated, ``NULL ''``), in chunks of
    UTF-8 bytes. Loading stops at the first problem; reading goes on to list the problems."""
    records = _records(fileobj, items, report)
    plan = next(records, None)
    if plan is None:
        return
    positions = [index for index, *_rest in plan]
    pick: Callable[[list[str]], Iterable[str]] = (
        operator.itemgetter(*positions) if len(positions) > 1 else lambda r: (r[positions[0]],)
    )
    plain = _plain_row_pattern(plan)
    chunk: list[str] = []
    for line, row in records:
        cells = "\t".join(pick(row))
        if plain(cells) is not None:
            chunk.append(f"{line}\t{cells}\n")
        else:
            values = _parse_record(line, row, plan, report)
            if report.truncated:
                return
            if values is None:
                chunk.clear()  # nothing more is loaded once a problem is found
                continue
            chunk.append(f"{line}\t" + "\t".join(_copy_cell(v) for v in values) + "\n")
        if report.errors:
            chunk.clear()
        elif len(chunk) >= COPY_CHUNK_ROWS:
            yield "".join(chunk).encode()
            chunk.clear()
    if chunk and not report.errors:
        yield "".join(chunk).encode()
