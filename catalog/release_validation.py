"""Streaming validation of a release CSV against the resource's data items.

The file is read once, in constant memory, whatever its size: each cell is parsed to its Python
type and every problem is reported with its line and column, up to a cap. ``parse_rows`` yields the
parsed rows as it goes, so a release is validated and loaded in one pass.
"""

import csv
import datetime
import hashlib
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
TRUE_WORDS = {"true", "1", "yes", "y", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "f"}
MAX_DECIMAL_DIGITS = 38


class CellError(ValueError):
    pass


def parse_integer(text):
    try:
        value = int(text)
    except ValueError:
        raise CellError(_("%(value)r is not a whole number") % {"value": text}) from None
    if not BIGINT_MIN <= value <= BIGINT_MAX:
        raise CellError(_("%(value)r is out of the 64-bit integer range") % {"value": text})
    return value


def parse_decimal(text):
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellError(
            _("%(value)r is not a decimal number (use 1234.56)") % {"value": text}
        ) from None
    if not value.is_finite():
        raise CellError(_("%(value)r is not a finite number") % {"value": text})
    if len(value.as_tuple().digits) > MAX_DECIMAL_DIGITS:
        raise CellError(_("%(value)r has more than 38 digits") % {"value": text})
    return value


def parse_date(text):
    try:
        if len(text) != 10:
            raise ValueError
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CellError(
            _("%(value)r is not a date (expected YYYY-MM-DD)") % {"value": text}
        ) from None


def parse_boolean(text):
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(_("%(value)r is not a yes/no value (use true or false)") % {"value": text})


PARSERS = {
    "string": str,
    "integer": parse_integer,
    "decimal": parse_decimal,
    "date": parse_date,
    "boolean": parse_boolean,
}


@dataclass
class Report:
    max_errors: int
    errors: list = field(default_factory=list)
    truncated: bool = False
    row_count: int = 0
    sha256: str = ""
    size_bytes: int = 0

    @property
    def ok(self):
        return not self.errors

    @property
    def full(self):
        return len(self.errors) >= self.max_errors

    def add(self, line, column, message):
        if self.full:
            self.truncated = True
            return
        self.errors.append({"line": line, "column": column, "message": str(message)})

    def as_dict(self):
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

    def __init__(self, raw):
        self._raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self._raw.read(len(buffer))
        if not chunk:
            return 0
        self.digest.update(chunk)
        self.size += len(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)


class BadEncoding(Exception):
    def __init__(self, line):
        self.line = line


def _decoded_lines(binary):
    """Decode line by line, so an encoding error names its physical line. A BOM is dropped."""
    buffered = io.BufferedReader(binary, buffer_size=1 << 16)
    for number, raw in enumerate(buffered, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadEncoding(number) from None


def _text_rows(binary):
    return csv.reader(_decoded_lines(binary), strict=True)


def _header_problems(header, items):
    """Column problems: duplicated, unknown and missing columns."""
    problems = []
    seen = set()
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


def parse_rows(fileobj, items, report):
    """Read the file once: yield ``(line, [value, ...])`` in ``items`` order for each clean row
    while no problem has been found, and record every problem in ``report`` (up to its cap).

    When the generator is exhausted, ``report`` holds the row count, SHA-256 and size (if the
    file was read to its end) or the errors. ``items`` is a list of ``{"name", "type",
    "required"}``; the file is read from the start.
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
        plan = [
            (position[item["name"]], item["name"], item["required"], PARSERS[item["type"]])
            for item in items
        ]
        width = len(header)
        for row in rows:
            if not row:
                continue  # a blank line is not a record
            line = rows.line_num
            report.row_count += 1
            if len(row) != width:
                report.add(
                    line,
                    "",
                    _("expected %(want)d values, found %(got)d") % {"want": width, "got": len(row)},
                )
                continue
            values, clean = [], True
            for index, name, required, parse in plan:
                cell = row[index]
                if cell == "":
                    if required:
                        report.add(line, name, _("a value is required"))
                        clean = False
                    values.append(None)
                    continue
                try:
                    values.append(parse(cell))
                except CellError as exc:
                    report.add(line, name, exc)
                    clean = False
            if report.truncated:
                return
            if clean and not report.errors:
                yield line, values
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


def validate(fileobj, items, *, max_errors):
    """Check the whole file without keeping it; return the Report (hash, size, rows, errors)."""
    report = Report(max_errors=max_errors)
    for _row in parse_rows(fileobj, items, report):
        pass
    return report
