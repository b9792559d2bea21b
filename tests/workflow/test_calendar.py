"""Behaviour of the office calendar and the standard-processing-period clock.

Every expected date was worked out by hand against printed calendars of 2026/2027.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.calendar import (
    BusinessCalendar,
    ClockSpan,
    ProcessingClock,
    default_calendar,
    processing_clock,
)

# One shared instance: Hypothesis forbids function-scoped fixtures, and reusing
# the holiday cache keeps the suite fast.
CAL = BusinessCalendar()


def d(text: str) -> date:
    return date.fromisoformat(text)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- opening days -------------------------------------------------------------


def test_weekdays_are_open_and_weekends_closed() -> None:
    assert CAL.is_open(d("2026-06-01"))  # Monday
    assert CAL.is_open(d("2026-06-05"))  # Friday
    assert not CAL.is_open(d("2026-06-06"))
    assert not CAL.is_open(d("2026-06-07"))
    assert CAL.closed_reason(d("2026-06-06")) == "Saturday"
    assert CAL.closed_reason(d("2026-06-07")) == "Sunday"
    assert CAL.closed_reason(d("2026-06-08")) is None


def test_golden_week_2026_holidays_are_closed() -> None:
    assert CAL.closed_reason(d("2026-04-29")) == "Showa Day"
    assert CAL.closed_reason(d("2026-05-04")) == "Greenery Day"
    assert CAL.closed_reason(d("2026-05-05")) == "Children's Day"
    # Constitution Day fell on a Sunday, so Wednesday May 6 is the substitute.
    assert CAL.closed_reason(d("2026-05-06")) == "Substitute Holiday"
    assert CAL.is_open(d("2026-04-30"))
    assert CAL.is_open(d("2026-05-01"))
    assert CAL.is_open(d("2026-05-07"))


def test_holiday_name_is_given_rather_than_weekday() -> None:
    assert CAL.closed_reason(d("2026-05-03")) == "Constitution Day"  # a Sunday


def test_kokumin_no_kyujitsu_2026_09_22_is_closed() -> None:
    # Sandwiched between Respect for the Aged Day and the autumnal equinox.
    assert CAL.closed_reason(d("2026-09-21")) == "Respect for the Aged Day"
    assert CAL.closed_reason(d("2026-09-22")) == "National Holiday"
    assert CAL.closed_reason(d("2026-09-23")) == "Autumnal Equinox Day"


def test_year_end_closure_runs_from_december_29_to_january_3() -> None:
    assert CAL.is_open(d("2026-12-28"))
    for day in ("2026-12-29", "2026-12-30", "2026-12-31", "2027-01-02", "2027-01-03"):
        assert CAL.closed_reason(d(day)) == "year-end closure", day
    assert CAL.closed_reason(d("2027-01-01")) == "New Year's Day"
    assert CAL.is_open(d("2027-01-04"))


def test_datetime_argument_is_treated_as_its_date() -> None:
    assert not CAL.is_open(datetime(2026, 5, 6, 10, 0))
    assert CAL.next_open_day(datetime(2026, 5, 2, 10, 0)) == d("2026-05-07")


def test_extra_closed_days_are_closed() -> None:
    cal = BusinessCalendar(extra_closed_days=[d("2026-06-10"), datetime(2026, 6, 11, 9, 0)])
    assert cal.closed_reason(d("2026-06-10")) == "office closure"
    assert not cal.is_open(d("2026-06-11"))
    assert cal.add_business_days(d("2026-06-09"), 1) == d("2026-06-12")
    assert cal.business_days_between(d("2026-06-08"), d("2026-06-12")) == 2
    # The shared calendar is unaffected.
    assert CAL.is_open(d("2026-06-10"))


def test_next_open_day_is_the_day_itself_when_open() -> None:
    assert CAL.next_open_day(d("2026-06-03")) == d("2026-06-03")
    assert CAL.next_open_day(d("2026-06-06")) == d("2026-06-08")
    assert CAL.next_open_day(d("2026-12-29")) == d("2027-01-04")


# --- business days ------------------------------------------------------------


def test_one_business_day_after_friday_is_monday() -> None:
    assert CAL.add_business_days(d("2026-06-05"), 1) == d("2026-06-08")


def test_business_day_after_the_eve_of_showa_day_skips_it() -> None:
    assert CAL.add_business_days(d("2026-04-28"), 1) == d("2026-04-30")


def test_business_days_across_golden_week_2026() -> None:
    # Apr 30 (1), May 1 (2), then May 2-6 closed, May 7 (3), May 8 (4).
    assert CAL.add_business_days(d("2026-04-28"), 2) == d("2026-05-01")
    assert CAL.add_business_days(d("2026-04-28"), 3) == d("2026-05-07")
    assert CAL.add_business_days(d("2026-05-01"), 1) == d("2026-05-07")
    assert CAL.add_business_days(d("2026-04-28"), 4) == d("2026-05-08")


def test_business_day_after_december_28_is_january_4() -> None:
    assert CAL.add_business_days(d("2026-12-28"), 1) == d("2027-01-04")


def test_zero_business_days_means_next_open_day() -> None:
    assert CAL.add_business_days(d("2026-06-03"), 0) == d("2026-06-03")
    assert CAL.add_business_days(d("2026-05-02"), 0) == d("2026-05-07")


def test_business_days_start_counting_after_a_closed_start() -> None:
    # Filed on Saturday: Monday is the first counted day.
    assert CAL.add_business_days(d("2026-06-06"), 1) == d("2026-06-08")


def test_negative_business_days_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_business_days(d("2026-06-01"), -1)


def test_business_days_between_excludes_start_and_includes_end() -> None:
    assert CAL.business_days_between(d("2026-06-01"), d("2026-06-05")) == 4
    assert CAL.business_days_between(d("2026-06-05"), d("2026-06-08")) == 1
    assert CAL.business_days_between(d("2026-06-06"), d("2026-06-07")) == 0


def test_business_days_between_is_zero_when_end_not_after_start() -> None:
    assert CAL.business_days_between(d("2026-06-03"), d("2026-06-03")) == 0
    assert CAL.business_days_between(d("2026-06-05"), d("2026-06-01")) == 0


def test_business_days_between_across_golden_week_and_year_end() -> None:
    assert CAL.business_days_between(d("2026-04-28"), d("2026-05-07")) == 3
    # Dec 28, Jan 4, Jan 5.
    assert CAL.business_days_between(d("2026-12-25"), d("2027-01-05")) == 3


# --- calendar-day periods and timers -------------------------------------------


def test_calendar_days_landing_on_an_open_day_stay() -> None:
    assert CAL.add_calendar_days(d("2026-06-01"), 3) == d("2026-06-04")
    # The start day being closed does not matter for calendar days.
    assert CAL.add_calendar_days(d("2026-06-06"), 4) == d("2026-06-10")


def test_deadline_on_saturday_moves_to_monday() -> None:
    assert CAL.deadline(d("2026-06-05"), days=1) == d("2026-06-08")


def test_deadline_on_saturday_before_holiday_run_moves_to_thursday() -> None:
    # Sat 19, Sun 20, Respect for the Aged 21, 国民の休日 22, equinox 23.
    assert CAL.deadline(d("2026-09-18"), days=1) == d("2026-09-24")


def test_deadline_on_sunday_holiday_skips_its_substitute_monday() -> None:
    # Vernal equinox 2027-03-21 is a Sunday, Monday 22 is its substitute.
    assert CAL.deadline(d("2027-03-14"), days=7) == d("2027-03-23")


def test_deadline_on_december_31_moves_to_january_4() -> None:
    assert CAL.add_calendar_days(d("2026-12-28"), 3) == d("2027-01-04")
    assert CAL.deadline(d("2026-12-17"), days=14) == d("2027-01-04")


def test_deadline_in_golden_week_moves_past_the_substitute_holiday() -> None:
    assert CAL.deadline(d("2026-04-22"), days=14) == d("2026-05-07")


def test_deadline_in_business_days_skips_golden_week() -> None:
    # Apr 28, 30, May 1, 7, 8.
    assert CAL.deadline(d("2026-04-27"), business_days=5) == d("2026-05-08")


def test_deadline_without_a_period_is_the_next_open_day() -> None:
    assert CAL.deadline(d("2026-06-03")) == d("2026-06-03")
    assert CAL.deadline(d("2026-06-06")) == d("2026-06-08")


def test_deadline_rejects_both_kinds_of_period() -> None:
    with pytest.raises(ValueError, match="either"):
        CAL.deadline(d("2026-06-01"), days=3, business_days=3)


@pytest.mark.parametrize(("days", "business_days"), [(-1, 0), (0, -1)])
def test_deadline_rejects_negative_periods(days: int, business_days: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.deadline(d("2026-06-01"), days=days, business_days=business_days)


# --- caching ------------------------------------------------------------------


def test_holidays_are_built_once_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    real_country_holidays = holidays.country_holidays

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(kwargs["years"])
        return real_country_holidays(*args, **kwargs)

    monkeypatch.setattr(holidays, "country_holidays", counting)
    cal = BusinessCalendar()
    assert built == []  # nothing is built up front
    cal.add_business_days(d("2026-04-01"), 60)
    cal.is_open(d("2026-11-03"))
    assert built == [2026]
    cal.is_open(d("2027-01-01"))
    assert built == [2026, 2027]


def test_default_calendar_is_shared() -> None:
    assert default_calendar() is default_calendar()
    assert not default_calendar().is_open(d("2026-05-06"))


# --- processing clock ---------------------------------------------------------


def test_clock_runs_straight_from_filing() -> None:
    spans = [ClockSpan(t("2026-06-01T09:00"), None, runs=True)]
    clock = processing_clock(CAL, 10, spans, now=t("2026-06-05T17:00"))
    # Jun 2-5 counted; ten business days after Jun 1 is Jun 15.
    assert clock == ProcessingClock(
        standard_days=10,
        used_days=4,
        remaining_days=6,
        running=True,
        due_date=d("2026-06-15"),
        overdue_days=0,
    )
    assert clock.due_date == CAL.add_business_days(d("2026-06-01"), 10)


def test_clock_does_not_count_the_first_day() -> None:
    spans = [ClockSpan(t("2026-06-01T09:00"), None, runs=True)]
    clock = processing_clock(CAL, 10, spans, now=t("2026-06-01T17:00"))
    assert clock.used_days == 0
    assert clock.due_date == d("2026-06-15")


def test_clock_pauses_while_with_applicant() -> None:
    spans = [
        ClockSpan(t("2026-06-01T09:00"), t("2026-06-03T10:00"), runs=True),  # Jun 2, 3
        ClockSpan(t("2026-06-03T10:00"), t("2026-06-10T14:00"), runs=False),
        ClockSpan(t("2026-06-10T14:00"), None, runs=True),  # Jun 11, 12
    ]
    clock = processing_clock(CAL, 10, spans, now=t("2026-06-12T12:00"))
    assert clock.used_days == 4
    assert clock.remaining_days == 6
    assert clock.running
    # Eight more after Jun 10: 11, 12, 15, 16, 17, 18, 19, 22. The five paused
    # business days (Jun 4, 5, 8, 9, 10) push the straight-run Jun 15 to Jun 22.
    assert clock.due_date == d("2026-06-22")
    assert clock.due_date == CAL.add_business_days(d("2026-06-10"), 10 - 2)
    assert clock.overdue_days == 0


def test_clock_is_stopped_while_the_applicant_span_is_still_open() -> None:
    spans = [
        ClockSpan(t("2026-06-01T09:00"), t("2026-06-03T10:00"), runs=True),
        ClockSpan(t("2026-06-03T10:00"), None, runs=False),
    ]
    clock = processing_clock(CAL, 10, spans, now=t("2026-06-12T12:00"))
    assert clock == ProcessingClock(
        standard_days=10,
        used_days=2,
        remaining_days=8,
        running=False,
        due_date=None,
        overdue_days=0,
    )


def test_clock_reports_overdue_business_days() -> None:
    spans = [ClockSpan(t("2026-04-27T09:00"), None, runs=True)]
    clock = processing_clock(CAL, 3, spans, now=t("2026-05-08T10:00"))
    # Counted: Apr 28, 30, May 1 (due), then May 7, 8 overdue.
    assert clock.used_days == 5
    assert clock.remaining_days == 0
    assert clock.due_date == d("2026-05-01")
    assert clock.overdue_days == 2
    assert clock.overdue_days == CAL.business_days_between(clock.due_date, d("2026-05-08"))


def test_clock_is_not_overdue_on_the_due_date() -> None:
    spans = [ClockSpan(t("2026-04-27T09:00"), None, runs=True)]
    clock = processing_clock(CAL, 3, spans, now=t("2026-05-01T18:00"))
    assert clock.used_days == 3
    assert clock.due_date == d("2026-05-01")
    assert clock.overdue_days == 0


def test_clock_keeps_overdue_days_while_paused() -> None:
    spans = [
        ClockSpan(t("2026-06-01T09:00"), t("2026-06-05T10:00"), runs=True),  # Jun 2-5
        ClockSpan(t("2026-06-05T10:00"), None, runs=False),
    ]
    clock = processing_clock(CAL, 2, spans, now=t("2026-06-19T10:00"))
    assert not clock.running
    assert clock.due_date is None
    assert clock.overdue_days == 2


def test_clock_used_up_before_a_pause_is_due_when_it_ran_out() -> None:
    spans = [
        ClockSpan(t("2026-06-01T09:00"), t("2026-06-03T10:00"), runs=True),  # Jun 2, 3
        ClockSpan(t("2026-06-03T10:00"), t("2026-06-05T09:00"), runs=False),
        ClockSpan(t("2026-06-05T09:00"), None, runs=True),  # Jun 8, 9
    ]
    clock = processing_clock(CAL, 2, spans, now=t("2026-06-09T12:00"))
    assert clock.due_date == d("2026-06-03")
    # Only days on the clock are overdue; the pause (Jun 4, 5) is not.
    assert clock.overdue_days == 2


def test_clock_with_zero_standard_days_is_due_at_once() -> None:
    spans = [ClockSpan(t("2026-06-01T09:00"), None, runs=True)]
    same_day = processing_clock(CAL, 0, spans, now=t("2026-06-01T15:00"))
    assert same_day.due_date == d("2026-06-01")
    assert same_day.overdue_days == 0
    assert same_day.remaining_days == 0
    later = processing_clock(CAL, 0, spans, now=t("2026-06-03T15:00"))
    assert later.used_days == 2
    assert later.overdue_days == 2


def test_clock_with_zero_standard_days_filed_on_saturday_is_due_monday() -> None:
    spans = [ClockSpan(t("2026-06-06T09:00"), None, runs=True)]
    monday = processing_clock(CAL, 0, spans, now=t("2026-06-08T15:00"))
    assert monday.due_date == d("2026-06-08")
    assert monday.overdue_days == 0
    tuesday = processing_clock(CAL, 0, spans, now=t("2026-06-09T15:00"))
    assert tuesday.overdue_days == 1


def test_clock_resumed_on_the_day_it_paused_does_not_double_count() -> None:
    spans = [
        ClockSpan(t("2026-06-01T09:00"), t("2026-06-03T10:00"), runs=True),  # Jun 2, 3
        ClockSpan(t("2026-06-03T10:00"), t("2026-06-03T15:00"), runs=False),
        ClockSpan(t("2026-06-03T15:00"), None, runs=True),  # Jun 4, 5
    ]
    clock = processing_clock(CAL, 10, spans, now=t("2026-06-05T17:00"))
    assert clock.used_days == 4
    assert clock.due_date == d("2026-06-15")  # as if it had never paused


def test_clock_handover_between_queues_on_one_day_counts_it_once() -> None:
    spans = [
        ClockSpan(t("2026-06-01T09:00"), t("2026-06-03T10:00"), runs=True),
        ClockSpan(t("2026-06-03T10:00"), None, runs=True),
    ]
    clock = processing_clock(CAL, 10, spans, now=t("2026-06-05T17:00"))
    assert clock.used_days == 4
    assert clock.due_date == d("2026-06-15")


def test_clock_parallel_queues_count_each_day_once() -> None:
    spans = [
        ClockSpan(t("2026-06-01T09:00"), None, runs=True),
        ClockSpan(t("2026-06-01T11:00"), None, runs=True),
    ]
    clock = processing_clock(CAL, 10, spans, now=t("2026-06-05T17:00"))
    assert clock.used_days == 4


def test_clock_skips_holidays_in_the_running_span() -> None:
    spans = [ClockSpan(t("2026-04-28T09:00"), None, runs=True)]
    clock = processing_clock(CAL, 5, spans, now=t("2026-05-07T09:00"))
    assert clock.used_days == 3  # Apr 30, May 1, May 7
    assert clock.due_date == d("2026-05-11")  # May 8 (4), May 11 (5)


def test_clock_without_spans_is_stopped_and_unused() -> None:
    clock = processing_clock(CAL, 10, [], now=t("2026-06-05T17:00"))
    assert clock == ProcessingClock(
        standard_days=10,
        used_days=0,
        remaining_days=10,
        running=False,
        due_date=None,
        overdue_days=0,
    )


def test_clock_ignores_span_time_after_now() -> None:
    spans = [ClockSpan(t("2026-06-01T09:00"), t("2026-06-30T09:00"), runs=True)]
    clock = processing_clock(CAL, 10, spans, now=t("2026-06-05T17:00"))
    assert clock.used_days == 4


def test_clock_uses_the_local_date_of_aware_datetimes() -> None:
    jst = timezone(timedelta(hours=9))
    # Monday 08:00 in Tokyo is still Sunday in UTC; converting would wrongly
    # count Monday as a day on the clock.
    spans = [ClockSpan(datetime(2026, 6, 1, 8, 0, tzinfo=jst), None, runs=True)]
    clock = processing_clock(CAL, 10, spans, now=datetime(2026, 6, 5, 23, 30, tzinfo=jst))
    assert clock.used_days == 4  # Jun 2-5


def test_clock_rejects_negative_standard_days() -> None:
    with pytest.raises(ValueError, match="negative"):
        processing_clock(CAL, -1, [], now=t("2026-06-05T17:00"))


# --- properties ---------------------------------------------------------------

_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@settings(max_examples=200, deadline=None, database=None)
@given(start=_dates, n=st.integers(min_value=0, max_value=60))
def test_add_business_days_lands_on_an_open_day_n_business_days_later(start: date, n: int) -> None:
    result = CAL.add_business_days(start, n)
    assert CAL.is_open(result)
    assert result >= start
    if n > 0:
        assert CAL.business_days_between(start, result) == n
    else:
        assert result == CAL.next_open_day(start)


@settings(max_examples=200, deadline=None, database=None)
@given(start=_dates, n=st.integers(min_value=0, max_value=60))
def test_add_calendar_days_lands_on_the_first_open_day_from_start_plus_n(
    start: date, n: int
) -> None:
    result = CAL.add_calendar_days(start, n)
    target = start + timedelta(days=n)
    assert CAL.is_open(result)
    assert result >= target
    assert CAL.business_days_between(target - timedelta(days=1), result - timedelta(days=1)) == 0
