"""Working-day arithmetic with the office's holiday calendar."""

import datetime
from collections.abc import Container

from workdays.models import Holiday


def holidays_between(start: datetime.date, end: datetime.date) -> set[datetime.date]:
    return set(Holiday.objects.filter(date__gt=start, date__lte=end).values_list("date", flat=True))


def add_working_days(
    start: datetime.date, days: int, holidays: Container[datetime.date] | None = None
) -> datetime.date:
    """The date ``days`` working days after ``start`` (weekends and holidays skipped)."""
    if holidays is None:
        # Enough calendar room for ``days`` working days plus a long holiday season.
        holidays = holidays_between(start, start + datetime.timedelta(days=days * 3 + 30))
    current, left = start, days
    while left > 0:
        current += datetime.timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            left -= 1
    return current


def working_days_between(
    start: datetime.date, end: datetime.date, holidays: Container[datetime.date] | None = None
) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if ``end <= start``)."""
    if end <= start:
        return 0
    if holidays is None:
        holidays = holidays_between(start, end)
    count, current = 0, start
    while current < end:
        current += datetime.timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            count += 1
    return count
