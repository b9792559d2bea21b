"""The queue: who sees what, filters, sort, paging, counts, overdue and due-soon views."""

from __future__ import annotations

import datetime
import re

from flask import Flask
from work_helpers import clone_application, file_as_resident, set_columns, staff_client, today_jst

from workflow.calendar import default_calendar

ROW = re.compile(r'<tr class="queue-row[^"]*" data-receipt="([^"]+)"')


def receipts_in(html: str) -> list[str]:
    return ROW.findall(html)


def receipt_of(app: Flask, public_id: str) -> str:
    from work_helpers import application_row

    return application_row(app, public_id).receipt_number


def test_queue_shows_my_offices_waiting_for_my_roles(app: Flask, published: None) -> None:
    first = file_as_resident(app)
    second = file_as_resident(app, "moving-out")
    in_approval = clone_application(app, first, 1, state="approval")[0]
    at_naniwa = clone_application(app, first, 1, office_id="naniwa")[0]
    clerk, _ = staff_client(app, "clerk@kita.example.jp", [("kita", "clerk")])
    supervisor, _ = staff_client(app, "sup@kita.example.jp", [("kita", "supervisor")])
    naniwa, _ = staff_client(app, "clerk@naniwa.example.jp", [("naniwa", "clerk")])

    seen = receipts_in(clerk.get("/office/queue").text)
    assert sorted(seen) == sorted(receipt_of(app, p) for p in (first, second))
    # The supervisor's queue holds only the state waiting on supervisors.
    assert receipts_in(supervisor.get("/office/queue").text) == [receipt_of(app, in_approval)]
    # Another ward's clerk sees only their own ward's application.
    assert receipts_in(naniwa.get("/office/queue").text) == [receipt_of(app, at_naniwa)]


def test_staff_with_roles_at_two_offices_can_filter_by_office(app: Flask, published: None) -> None:
    first = file_as_resident(app)
    at_naniwa = clone_application(app, first, 1, office_id="naniwa")[0]
    both, _ = staff_client(app, "two@example.jp", [("kita", "clerk"), ("naniwa", "clerk")])
    page = both.get("/office/queue")
    assert 'name="office"' in page.text
    assert len(receipts_in(page.text)) == 2
    only = receipts_in(both.get("/office/queue?office=naniwa").text)
    assert only == [receipt_of(app, at_naniwa)]


def test_rows_show_what_a_clerk_needs(app: Flask, published: None) -> None:
    public_id = file_as_resident(app)
    clerk, _ = staff_client(app, "clerk@kita.example.jp", [("kita", "clerk")])
    html = clerk.get("/office/queue").text
    assert receipt_of(app, public_id) in html
    assert "Claim for child allowance" in html
    assert "Received" in html
    assert "business days left" in html
    assert "Unassigned" in html
    assert f'href="/office/applications/{public_id}"' in html


def test_filters_procedure_state_assignment_and_dates(app: Flask, published: None) -> None:
    child = file_as_resident(app)
    dog = file_as_resident(app, "moving-out")
    reviewing = clone_application(app, child, 1, state="reviewing")[0]
    clerk, clerk_id = staff_client(app, "clerk@kita.example.jp", [("kita", "clerk")])
    set_columns(app, dog, assigned_to_id=clerk_id)
    old = clone_application(
        app, child, 1, filed_at=datetime.datetime(2025, 4, 1, 1, 0, tzinfo=datetime.UTC)
    )[0]

    def shown(query: str) -> set[str]:
        page = clerk.get(f"/office/queue?{query}")
        assert page.status_code == 200
        return set(receipts_in(page.text))

    ids = {"child": child, "dog": dog, "rev": reviewing, "old": old}
    r = {k: receipt_of(app, v) for k, v in ids.items()}
    assert shown("procedure=moving-out") == {r["dog"]}
    assert shown("state=reviewing") == {r["rev"]}
    assert shown("assigned=me") == {r["dog"]}
    assert shown("assigned=unassigned") == {r["child"], r["rev"], r["old"]}
    assert shown("received_from=2025-04-01&received_to=2025-04-01") == {r["old"]}
    assert r["old"] not in shown(f"received_from={today_jst().isoformat()}")
    # Nonsense in the query string is ignored, not an error.
    assert len(shown("received_from=yesterday&page=x&assigned=bob")) == 4


def test_sorted_by_due_date_then_filing_time_with_no_due_date_last(
    app: Flask, published: None
) -> None:
    base = file_as_resident(app)
    today = today_jst()
    later, sooner, undated = clone_application(app, base, 3)
    set_columns(app, later, due_date=today + datetime.timedelta(days=30))
    set_columns(app, sooner, due_date=today + datetime.timedelta(days=2))
    set_columns(app, undated, due_date=None)
    same_due_older = clone_application(
        app,
        base,
        1,
        due_date=today + datetime.timedelta(days=2),
        filed_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=3),
    )[0]
    set_columns(app, base, due_date=today + datetime.timedelta(days=10))
    clerk, _ = staff_client(app, "clerk@kita.example.jp", [("kita", "clerk")])
    order = receipts_in(clerk.get("/office/queue").text)
    expected = [same_due_older, sooner, base, later, undated]
    assert order == [receipt_of(app, p) for p in expected]


def test_pagination_fifty_per_page_with_page_links(app: Flask, published: None) -> None:
    base = file_as_resident(app)
    clone_application(app, base, 54)
    clerk, _ = staff_client(app, "clerk@kita.example.jp", [("kita", "clerk")])
    first = clerk.get("/office/queue")
    assert len(receipts_in(first.text)) == 50
    assert "55 applications" in first.text
    assert 'href="/office/queue?page=2"' in first.text
    second = clerk.get("/office/queue?page=2")
    assert len(receipts_in(second.text)) == 5
    assert not set(receipts_in(first.text)) & set(receipts_in(second.text))
    # A page past the end shows the last one.
    assert receipts_in(clerk.get("/office/queue?page=99").text) == receipts_in(second.text)


def test_counts_per_state(app: Flask, published: None) -> None:
    base = file_as_resident(app)
    clone_application(app, base, 2, state="reviewing")
    clone_application(app, base, 1, state="correction")  # waits on the applicant: no queue
    clerk, _ = staff_client(app, "clerk@kita.example.jp", [("kita", "clerk")])
    html = clerk.get("/office/queue").text
    counts = dict(re.findall(r'data-state="(\w+)">[^:]+: <span class="count">(\d+)</span>', html))
    assert counts == {"received": "1", "reviewing": "2"}
    # The counts keep to the other filters, and link to the state filter.
    assert 'href="/office/queue?state=reviewing"' in html


def test_overdue_and_due_soon_views(app: Flask, published: None) -> None:
    base = file_as_resident(app)
    calendar = default_calendar()
    today = today_jst()
    overdue, due_soon, later = clone_application(app, base, 3)
    three_back = today
    for _ in range(3):
        three_back -= datetime.timedelta(days=1)
        while not calendar.is_open(three_back):
            three_back -= datetime.timedelta(days=1)
    set_columns(app, overdue, due_date=three_back)
    set_columns(app, due_soon, due_date=calendar.add_business_days(today, 2))
    set_columns(app, later, due_date=calendar.add_business_days(today, 3))
    set_columns(app, base, due_date=calendar.add_business_days(today, 10))
    clerk, _ = staff_client(app, "clerk@kita.example.jp", [("kita", "clerk")])

    late = clerk.get("/office/queue?view=overdue").text
    assert receipts_in(late) == [receipt_of(app, overdue)]
    overdue_by = calendar.business_days_between(three_back, today)
    assert f"overdue by {overdue_by} business days" in late
    assert receipts_in(clerk.get("/office/queue?overdue=1").text) == [receipt_of(app, overdue)]

    soon = clerk.get("/office/queue?view=due_soon").text
    assert receipts_in(soon) == [receipt_of(app, due_soon)]
    assert "2 business days left" in soon
