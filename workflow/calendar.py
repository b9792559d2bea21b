"""Business-day arithmetic for a Japanese city office, and the processing clock.

A city office is open Monday to Friday except on national holidays (as the
``holidays`` package lists them, substitute holidays and 国民の休日 included)
and during the municipal year-end closure, December 29 to January 3.

Two kinds of period are computed here:

* workflow timers (``after: {days: N}`` / ``after: {business_days: N}``), where
  the first day is not counted (初日不算入) and a calendar-day period that ends
  on a closed day runs on to the next open day (行政機関の休日に関する法律 art. 2);
* the standard processing period of Administrative Procedure Act art. 6, whose
  clock only runs while the case is with the office, not while a correction is
  with the applicant.

This module is part of the pure workflow engine: standard library and
``holidays`` only.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import holidays

__all__ = [
    "BusinessCalendar",
    "ClockSpan",
    "ProcessingClock",
    "default_calendar",
    "processing_clock",
]

YEAR_END_CLOSURE = "year-end closure"
OFFICE_CLOSURE = "office closure"

_ONE_DAY = timedelta(days=1)
_WEEKEND_NAMES = {5: "Saturday", 6: "Sunday"}


def _as_date(day: date) -> date:
    # datetime is a subclass of date but never compares equal to one, so a
    # datetime slipping in would silently miss every holiday lookup.
    return day.date() if isinstance(day, datetime) else day


def _is_year_end(day: date) -> bool:
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def _days_after(start: date, end: date) -> Iterator[date]:
    """Days d with start < d <= end."""
    day = start + _ONE_DAY
    while day <= end:
        yield day
        day += _ONE_DAY


class BusinessCalendar:
    """Opening days of the office, with holidays looked up lazily per year."""

    def __init__(self, *, extra_closed_days: Iterable[date] = ()) -> None:
        self._extra_closed_days = frozenset(_as_date(day) for day in extra_closed_days)
        self._holidays_by_year: dict[int, Mapping[date, str]] = {}
        # Building a holidays object is slow, so each year is built once; the
        # lock only guards building, reads of finished years need none.
        self._build_lock = threading.Lock()

    def _holidays(self, year: int) -> Mapping[date, str]:
        cached = self._holidays_by_year.get(year)
        if cached is not None:
            return cached
        with self._build_lock:
            cached = self._holidays_by_year.get(year)
            if cached is None:
                # English names, whatever the process locale, so that reasons
                # are stable; the UI translates them.
                built = holidays.country_holidays("JP", years=year, language="en_US")
                cached = {_as_date(day): str(name) for day, name in built.items()}
                self._holidays_by_year[year] = cached
            return cached

    def closed_reason(self, day: date) -> str | None:
        """Why the office is closed on ``day``, or None when it is open.

        A holiday name wins over the year-end closure, which wins over the
        weekday, because the more specific reason is the more useful one to show.
        """
        day = _as_date(day)
        holiday = self._holidays(day.year).get(day)
        if holiday is not None:
            return holiday
        if _is_year_end(day):
            return YEAR_END_CLOSURE
        weekend = _WEEKEND_NAMES.get(day.weekday())
        if weekend is not None:
            return weekend
        if day in self._extra_closed_days:
            return OFFICE_CLOSURE
        return None

    def is_open(self, day: date) -> bool:
        return self.closed_reason(day) is None

    def next_open_day(self, day: date) -> date:
        """``day`` itself when open, otherwise the first open day after it."""
        day = _as_date(day)
        while not self.is_open(day):
            day += _ONE_DAY
        return day

    def add_business_days(self, start: date, n: int) -> date:
        """The n-th business day after ``start``; ``start`` itself is not counted."""
        if n < 0:
            raise ValueError(f"business days must not be negative, got {n}")
        day = _as_date(start)
        if n == 0:
            return self.next_open_day(day)
        remaining = n
        while remaining:
            day += _ONE_DAY
            if self.is_open(day):
                remaining -= 1
        return day

    def add_calendar_days(self, start: date, n: int) -> date:
        """``start`` + n days, moved on to the next open day if that one is closed."""
        if n < 0:
            raise ValueError(f"days must not be negative, got {n}")
        return self.next_open_day(_as_date(start) + timedelta(days=n))

    def business_days_between(self, start: date, end: date) -> int:
        """Business days d with start < d <= end (0 when end <= start)."""
        return sum(1 for day in _days_after(_as_date(start), _as_date(end)) if self.is_open(day))

    def deadline(self, start: date, *, days: int = 0, business_days: int = 0) -> date:
        """The date an ``after: {days: N}`` or ``after: {business_days: N}`` timer fires."""
        if days and business_days:
            raise ValueError("a deadline takes either days or business_days, not both")
        if business_days:
            return self.add_business_days(start, business_days)
        return self.add_calendar_days(start, days)


@functools.cache
def default_calendar() -> BusinessCalendar:
    """A shared calendar, so the holiday cache is built once per process."""
    return BusinessCalendar()


@dataclass(frozen=True)
class ClockSpan:
    """A stretch of time a case spent in one state."""

    start: datetime
    end: datetime | None  # None: the case is still in this state
    runs: bool  # True for `queue:` states; False while `with: applicant` and the like


@dataclass(frozen=True)
class ProcessingClock:
    standard_days: int
    used_days: int  # business days consumed so far
    remaining_days: int  # max(standard_days - used_days, 0)
    running: bool  # the clock runs now
    due_date: date | None  # when running: the day the standard period ends
    overdue_days: int  # business days on the clock past the due date; 0 when not overdue


def processing_clock(
    calendar: BusinessCalendar,
    standard_days: int,
    spans: Sequence[ClockSpan],
    *,
    now: datetime,
) -> ProcessingClock:
    """Where a case stands against its standard processing period.

    Only business days in running spans count, each span's first day excluded
    (初日不算入), exactly like ``add_business_days``; so while the clock runs
    and the period is not yet used up, ``due_date`` is
    ``add_business_days(resume_day, standard_days - used_before_resume)``.
    Days are collected in a set so that spans meeting or overlapping on one day
    (a hand-over between two queues, parallel queues) count that day once.
    """
    if standard_days < 0:
        raise ValueError(f"standard_days must not be negative, got {standard_days}")
    today = now.date()
    running_spans = [span for span in spans if span.runs]

    counted: set[date] = set()
    for span in running_spans:
        # A span recorded as ending after `now` is treated as ending now: the
        # clock never counts days that have not happened yet.
        end = now if span.end is None or span.end > now else span.end
        counted.update(
            day for day in _days_after(span.start.date(), end.date()) if calendar.is_open(day)
        )
    used = len(counted)
    running = any(span.end is None for span in running_spans)

    period_end: date | None
    if standard_days == 0:
        # Nothing to consume: the period ends on the first open day the clock
        # ever ran, which is what add_business_days(start, 0) gives.
        first_start = min((span.start.date() for span in running_spans), default=None)
        period_end = None if first_start is None else calendar.next_open_day(first_start)
    elif used >= standard_days:
        # The period already ended, possibly before a pause; it ended on the
        # day the last of its days was counted, not on the day work resumed.
        period_end = sorted(counted)[standard_days - 1]
    elif running:
        # Every business day from the resume day up to today is on the clock,
        # so counting on from today is the same as counting on from the resume day.
        period_end = calendar.add_business_days(today, standard_days - used)
    else:
        period_end = None

    overdue = 0 if period_end is None else sum(1 for day in counted if day > period_end)
    return ProcessingClock(
        standard_days=standard_days,
        used_days=used,
        remaining_days=max(standard_days - used, 0),
        running=running,
        due_date=period_end if running else None,
        overdue_days=overdue,
    )
