"""The office room in Chromium: a claim for child allowance from filing to decision.

A clerk and a supervisor of the kita ward log in through the real two-step
form (password, then the authenticator's code), work the queue and the
application page on a desktop (1280×800), and the resident answers the
correction request on a phone.  Every office page they reach is checked with
axe (WCAG 2.2 AA) and must not scroll sideways: `Desk.check()` after each
step, and `Desk.finish()` proves no page was left unchecked.

The same flows over plain HTTP: tests/office/test_work_application.py.
"""

from __future__ import annotations

import datetime
import io
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Frame, Locator, Page, expect
from pypdf import PdfReader
from sqlalchemy import select
from support import (
    LiveServer,
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshot,
    watch_console,
)

from madoguchi.models import Application

# tests/app and tests/office are on sys.path only when pytest collects them.
for _folder in ("app", "office"):
    _path = str(Path(__file__).resolve().parent.parent / _folder)
    if _path not in sys.path:
        sys.path.append(_path)

from filing_walker import Walk, csrf_of  # noqa: E402
from helpers import PASSWORD, create_resident, post_form  # noqa: E402
from staff_helpers import TOTP_SECRET, create_staff  # noqa: E402

#: a desk computer at the ward office
DESKTOP: dict[str, Any] = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "ja-JP",
    "timezone_id": "Asia/Tokyo",
}
#: the resident's phone, as the `phone` fixture of conftest.py
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ja-JP",
    "timezone_id": "Asia/Tokyo",
}
TIMEOUT_MS = 5_000
PROCEDURE_TITLE = "児童手当の認定請求"
TOMORROW = datetime.date.today() + datetime.timedelta(days=1)

#: what Chromium logs for a form sent back with mistakes (422) or a stale page (409)
EXPECTED_STATUS = re.compile(r"status of (409|422) ")


class Desk:
    """One staff member's (or resident's) browser, checking every office page it reaches.

    `check()` runs axe and the sideways-scroll check on the page shown now;
    navigating twice without a check in between fails, and so does
    `finish()` when the last page went unchecked or the console logged an
    error (other than the 409/422 statuses the journeys provoke).
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.unchecked: list[str] = []
        self.console: list[str] = []
        self.checks = 0
        page.on("framenavigated", self._navigated)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console.append(f"uncaught: {error}"))

    def _navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self.unchecked.append(frame.url)

    def _console(self, message: ConsoleMessage) -> None:
        url = message.location.get("url") or ""
        if (
            message.type == "error"
            and not url.endswith("/favicon.ico")
            and not EXPECTED_STATUS.search(message.text)
        ):
            self.console.append(f"{message.text} ({url})")

    def check(self, shot: str | None = None) -> None:
        skipped = self.unchecked[:-1]
        assert not skipped, f"pages reached without a check: {skipped}"
        self.page.wait_for_load_state("load")  # its stylesheets too: axe measures the layout
        assert_accessible(self.page)
        assert_no_horizontal_scroll(self.page)
        self.unchecked.clear()
        self.checks += 1
        if shot:
            screenshot(self.page, f"office-{shot}", full_page=True)

    def finish(self) -> None:
        assert not self.unchecked, f"pages reached without a check: {self.unchecked}"
        assert not self.console, "the browser reported errors:\n" + "\n".join(self.console)


@pytest.fixture
def open_browser(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """A factory of fresh browser contexts (desktop unless told), closed after the test."""
    pages: list[tuple[str, Page]] = []
    failed_before = request.session.testsfailed

    def open_(name: str, **options: Any) -> Page:
        context = browser.new_context(**(options or DESKTOP), base_url=live_server.url)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch_console(page)
        pages.append((name, page))
        return page

    yield open_
    failed = request.session.testsfailed > failed_before
    for name, page in pages:
        if failed and not page.is_closed():
            path = screenshot(page, f"failed-{request.node.name}-{name}", full_page=True)
            print(f"screenshot of {name}'s page when the test failed: {path}")
        page.context.close()


# -- helpers -----------------------------------------------------------------


def unique(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}"


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def new_staff(live_server: LiveServer, tag: str, role: str, *, enrolled: bool = True) -> str:
    """A kita staff member (unique email, TOTP_SECRET unless not enrolled); the email."""
    email = f"{unique(tag)}@kita.example.jp"
    name = {"clerk": "青木", "supervisor": "北村"}[role] + tag[-1]
    create_staff(live_server.app, email, [("kita", role)], name=name, enrolled=enrolled)
    return email


class WalkInJapanese(Walk):
    """`Walk`, but the resident's pages (and so the application) in Japanese."""

    def start(self) -> str:
        page = self.client.get(f"/procedures/{self.procedure_id}?lang=ja")
        assert page.status_code == 200
        response = self.client.post(
            f"/procedures/{self.procedure_id}/start", data={"csrf_token": csrf_of(page.text)}
        )
        assert response.status_code == 302, response.text
        return response.headers["Location"]


def file_child_allowance(live_server: LiveServer) -> tuple[str, str, str]:
    """A new resident files a claim over HTTP (sample answers: 〒530-0001, so kita).

    Returns (resident's email, public id, receipt number).
    """
    email = f"{unique('claimant')}@example.jp"
    create_resident(live_server.app, email)
    client = live_server.app.test_client()
    assert post_form(client, "/login", {"email": email, "password": PASSWORD}).status_code == 302
    filed = WalkInJapanese(client, live_server.app, "child-allowance").file()
    assert filed.status_code == 302, filed.text
    public_id = filed.headers["Location"].rstrip("/").split("/")[-2]
    with live_server.db() as session:
        application = session.scalars(
            select(Application).where(Application.public_id == public_id)
        ).one()
        assert application.office_id == "kita"
        return email, public_id, application.receipt_number


def state_of(live_server: LiveServer, public_id: str) -> str:
    with live_server.db() as session:
        state: str = session.scalars(
            select(Application.state).where(Application.public_id == public_id)
        ).one()
        return state


def log_in(desk: Desk, email: str, *, mistakes: bool = False) -> None:
    """The two-step login: password, then the code of TOTP_SECRET; lands on the queue.

    With `mistakes`, each step is first sent wrong and its error page checked.
    """
    page = desk.page
    page.goto("/office/login")
    expect(heading(page)).to_have_text("職員ログイン")
    desk.check()
    if mistakes:
        page.get_by_role("button", name="続ける").click()
        expect(page.get_by_role("alert")).to_contain_text("入力内容に誤りがあります")
        expect(page.get_by_label("メールアドレス")).to_have_attribute("aria-invalid", "true")
        desk.check()
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="続ける").click()
    expect(heading(page)).to_have_text("認証アプリのコードを入力")
    desk.check()
    code = page.get_by_label("認証アプリのコード")
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    if mistakes:
        code.fill("12345")
        page.get_by_role("button", name="ログイン").click()
        expect(code).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_role("alert")).to_be_visible()
        desk.check()
    code.fill(pyotp.TOTP(TOTP_SECRET).now())
    page.get_by_role("button", name="ログイン").click()
    expect(heading(page)).to_have_text("処理待ち一覧")
    desk.check()


def queue_row(page: Page, receipt_number: str) -> Locator:
    return page.locator(f'tr.queue-row[data-receipt="{receipt_number}"]')


def open_from_queue(desk: Desk, receipt_number: str) -> None:
    """Queue (header link), filtered to child allowance, then the application's row."""
    page = desk.page
    page.get_by_role("navigation", name="職員メニュー").get_by_role(
        "link", name="処理待ち一覧"
    ).click()
    expect(heading(page)).to_have_text("処理待ち一覧")
    desk.check()
    page.get_by_label("手続名").select_option(label=PROCEDURE_TITLE)
    page.get_by_role("button", name="絞り込む").click()
    expect(page).to_have_url(re.compile(r"procedure=child-allowance"))
    desk.check()
    queue_row(page, receipt_number).get_by_role("link", name=receipt_number).click()
    expect(page.locator(".caption .receipt-number")).to_have_text(receipt_number)
    desk.check()


def state_shown(page: Page) -> Locator:
    return page.locator(".facts dd.state")


def action_form(page: Page, action: str) -> Locator:
    """The form of one workflow action (a form landmark named by its heading)."""
    return page.locator(f"form#action-{action}")


def take(desk: Desk, action: str, label: str, state: str) -> None:
    """Press an action's button (no fields); the page says it is done, in `state`."""
    page = desk.page
    action_form(page, action).get_by_role("button", name=label).click()
    expect(page.get_by_role("status")).to_have_text(f"「{label}」を実行しました。")
    expect(state_shown(page)).to_have_text(state)
    desk.check()


# -- filing to decision ------------------------------------------------------


def test_a_claim_from_filing_to_certification(
    open_browser: Callable[..., Page], live_server: LiveServer
) -> None:
    resident_email, public_id, receipt = file_child_allowance(live_server)
    clerk_email = new_staff(live_server, "clerk-a", "clerk")
    chief_email = new_staff(live_server, "chief-a", "supervisor", enrolled=False)

    # The clerk logs in (each step first sent with a mistake), finds the claim, claims it.
    clerk = Desk(open_browser("clerk"))
    page = clerk.page
    log_in(clerk, clerk_email, mistakes=True)
    page.get_by_label("手続名").select_option(label=PROCEDURE_TITLE)
    page.get_by_label("状況", exact=True).select_option(label="受付")
    page.get_by_role("button", name="絞り込む").click()
    row = queue_row(page, receipt)
    expect(row).to_contain_text("受付")
    expect(row).to_contain_text("未割当")
    export = page.get_by_role("link", name="CSV出力")
    href = export.get_attribute("href") or ""
    assert href.startswith("/office/export.csv?"), href
    assert "procedure=child-allowance" in href, href
    assert "state=received" in href, href
    clerk.check("queue")
    csv = page.request.get(href)
    assert csv.ok
    assert csv.headers["content-type"].startswith("text/csv")
    assert receipt in csv.text()

    # Nothing received tomorrow: the empty queue.
    page.get_by_label("受付日（から）").fill(TOMORROW.isoformat())
    page.get_by_role("button", name="絞り込む").click()
    expect(page.get_by_text("処理待ちの申請はありません。")).to_be_visible()
    expect(page.locator("tr.queue-row")).to_have_count(0)
    clerk.check()
    page.go_back()
    clerk.check()

    row.get_by_role("link", name=receipt).click()
    expect(heading(page)).to_have_text(PROCEDURE_TITLE)
    expect(state_shown(page)).to_have_text("受付")
    expect(page.get_by_role("region", name="申請内容")).to_contain_text("●●●●9018")
    clerk.check("application")
    page.get_by_role("button", name="担当する", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(f"{receipt} を担当しました。")
    expect(page.locator(".facts dd.assignee")).to_have_text("青木a")
    clerk.check()
    take(clerk, "start_review", "審査を開始", "審査中")

    # A correction needs a message: first without one.
    correction = action_form(page, "request_correction")
    correction.get_by_role("button", name="補正を依頼").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("入力内容に誤りがあります")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#comment-request_correction")
    expect(heading(page)).to_have_text(PROCEDURE_TITLE)
    message_box = correction.get_by_label("申請者へのメッセージ（必須）")
    expect(message_box).to_have_attribute("aria-invalid", "true")
    assert page.title().startswith("エラー：")
    clerk.check()
    assert state_of(live_server, public_id) == "reviewing"
    message = "振込先の支店名が通帳と一致しません。支店名を確認してください。"
    message_box.fill(message)
    correction.get_by_role("button", name="補正を依頼").click()
    expect(page.get_by_role("status")).to_have_text("「補正を依頼」を実行しました。")
    expect(state_shown(page)).to_have_text("補正依頼中")
    expect(page.get_by_role("region", name="処理経過")).to_contain_text(message)
    clerk.check()

    # An internal note, for staff only.
    note = "申請者に電話済み。通帳の写しで支店名を確認予定。"
    notes = page.get_by_role("region", name="内部メモ")
    notes.get_by_label("新しいメモ").fill(note)
    notes.get_by_role("button", name="メモを保存").click()
    expect(page.get_by_role("status")).to_have_text("メモを保存しました。")
    expect(notes.locator(".note-entry")).to_contain_text(note)
    clerk.check()

    # The resident corrects the bank branch on a phone and sends the claim back.
    resident = open_browser("resident", **PHONE)
    resident.goto("/login")
    resident.get_by_label("メールアドレス").fill(resident_email)
    resident.get_by_label("パスワード").fill(PASSWORD)
    resident.get_by_role("main").get_by_role("button", name="ログイン").click()
    expect(heading(resident)).to_have_text("申請履歴")
    resident.goto(f"/applications/{public_id}")
    expect(resident.locator(".facts .state")).to_have_text("補正依頼中")
    callout = resident.get_by_role("region", name="担当窓口から申請内容の補正のお願いがあります")
    expect(callout).to_contain_text(message)
    expect(resident.get_by_text(note)).to_have_count(0)
    callout.get_by_role("button", name="申請内容を補正する").click()
    expect(heading(resident)).to_have_text("補正内容の確認")
    resident.get_by_role("link", name="変更 振込先口座").click()
    expect(heading(resident)).to_have_text("振込先口座")
    resident.get_by_label("支店名").fill("難波支店")
    resident.get_by_role("button", name="保存して次へ").click()
    expect(heading(resident)).to_have_text("補正内容の確認")
    resident.get_by_role("button", name="補正内容を送信する").click()
    expect(resident.locator(".facts .state")).to_have_text("審査中")

    # Back in the clerk's queue, under review again, with the new branch; for approval.
    open_from_queue(clerk, receipt)
    expect(state_shown(page)).to_have_text("審査中")
    expect(page.get_by_role("region", name="申請内容")).to_contain_text("難波支店")
    expect(page.get_by_role("region", name="処理経過")).to_contain_text("補正して再提出")
    take(clerk, "recommend", "決裁に回す", "決裁待ち")
    expect(action_form(page, "certify")).to_have_count(0)  # the supervisor's
    clerk.finish()

    # The supervisor's first login: set up the authenticator app, then certify.
    chief = Desk(open_browser("chief"))
    office = chief.page
    office.goto("/office/login")
    chief.check()
    office.get_by_label("メールアドレス").fill(chief_email)
    office.get_by_label("パスワード").fill(PASSWORD)
    office.get_by_role("button", name="続ける").click()
    expect(heading(office)).to_have_text("認証アプリの設定")
    chief.check()
    secret = office.locator(".totp-secret").inner_text().replace(" ", "")
    assert secret != TOTP_SECRET
    office.get_by_label("認証アプリのコード").fill(pyotp.TOTP(secret).now())
    office.get_by_role("button", name="確認してログイン").click()
    expect(office.get_by_role("status")).to_contain_text("認証アプリの設定が完了しました")
    expect(heading(office)).to_have_text("処理待ち一覧")
    chief.check()
    office.get_by_role("link", name="窓口（職員用）").click()
    expect(heading(office)).to_have_text("あなたの所属")
    expect(office.get_by_role("main")).to_contain_text("北区役所")
    chief.check()

    open_from_queue(chief, receipt)
    expect(state_shown(office)).to_have_text("決裁待ち")
    certify = action_form(office, "certify")
    certify.get_by_label("認定月額（円）").fill("15000")
    certify.get_by_label("支給開始月").fill("12/2026")
    certify.get_by_role("button", name="認定する").click()
    expect(office.get_by_role("alert")).to_contain_text("支給開始月")
    first_month = certify.get_by_label("支給開始月")
    expect(first_month).to_have_value("12/2026")  # what was typed is kept
    expect(first_month).to_have_attribute("aria-invalid", "true")
    expect(certify.get_by_label("認定月額（円）")).not_to_have_attribute("aria-invalid", "true")
    chief.check("certify-error")
    assert state_of(live_server, public_id) == "approval"
    first_month.fill("2026-12")
    certify.get_by_role("button", name="認定する").click()
    expect(office.get_by_role("status")).to_have_text("「認定する」を実行しました。")
    expect(state_shown(office)).to_have_text("認定")
    chief.check("certified")

    documents = office.get_by_role("region", name="添付ファイル・書類")
    decision = documents.get_by_role("link", name="児童手当認定通知書 (PDF)")
    with office.expect_download() as download_info:
        decision.click()
    download = download_info.value
    assert download.suggested_filename == f"{receipt}-decision.pdf"
    pdf = PdfReader(io.BytesIO(Path(download.path()).read_bytes()))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert receipt in text
    assert "15,000" in text
    assert "2026-12" in text
    chief.finish()

    # The resident sees the decision and its notice.
    resident.reload()
    expect(resident.locator(".facts .state")).to_have_text("認定")
    on_phone = resident.get_by_role("region", name="書類")
    expect(on_phone.get_by_role("link", name="児童手当認定通知書 (PDF)")).to_be_visible()


# -- two clerks, one application ---------------------------------------------


def test_a_stale_page_gets_409_with_the_new_state(
    open_browser: Callable[..., Page], live_server: LiveServer
) -> None:
    _email, public_id, receipt = file_child_allowance(live_server)
    first = Desk(open_browser("first"))
    second = Desk(open_browser("second"))
    log_in(first, new_staff(live_server, "clerk-b", "clerk"))
    log_in(second, new_staff(live_server, "clerk-c", "clerk"))
    url = f"/office/applications/{public_id}"
    for desk in (first, second):
        desk.page.goto(url)
        expect(state_shown(desk.page)).to_have_text("受付")
        desk.check()

    # Both press "claim"; the second is told who has it.
    first.page.get_by_role("button", name="担当する", exact=True).click()
    expect(first.page.locator(".facts dd.assignee")).to_have_text("青木b")
    first.check()
    second.page.get_by_role("button", name="担当する", exact=True).click()
    expect(heading(second.page)).to_have_text("すでに担当者がいます")
    expect(second.page.get_by_role("main")).to_contain_text(
        "この申請は、すでに青木bさんが担当しています。"
    )
    second.check()
    second.page.get_by_role("link", name="申請に戻る").click()
    expect(second.page.locator(".facts dd.assignee")).to_have_text("青木b")
    second.check()

    # The first starts the review while the second writes a correction request.
    take(first, "start_review", "審査を開始", "審査中")
    late = action_form(second.page, "request_correction")
    late.get_by_label("申請者へのメッセージ（必須）").fill("添付書類を追加してください。")
    late.get_by_role("button", name="補正を依頼").click()
    alert = second.page.get_by_role("alert")
    expect(alert).to_contain_text("この間に申請の状況が「審査中」に変わりました。")
    expect(second.page.locator(".caption .receipt-number")).to_have_text(receipt)
    expect(state_shown(second.page)).to_have_text("審査中")
    expect(second.page.get_by_role("region", name="処理経過")).to_contain_text("審査を開始")
    # The form offered now is for the state as it is: no "start review" any more.
    expect(action_form(second.page, "start_review")).to_have_count(0)
    expect(action_form(second.page, "recommend")).to_have_count(1)
    second.check("409-changed")
    assert state_of(live_server, public_id) == "reviewing"
    for desk in (first, second):
        desk.finish()


# -- staff pages on a phone and a tablet -------------------------------------


def test_queue_and_application_fit_a_phone_and_a_tablet(
    open_browser: Callable[..., Page], live_server: LiveServer
) -> None:
    """390 px wide, then 768: the page never scrolls sideways (the queue's table may,
    inside its own region, which a keyboard can reach)."""
    _email, public_id, receipt = file_child_allowance(live_server)
    small = Desk(open_browser("small", **PHONE))
    page = small.page
    log_in(small, new_staff(live_server, "clerk-e", "clerk"))
    page.get_by_label("手続名").select_option(label=PROCEDURE_TITLE)
    page.get_by_role("button", name="絞り込む").click()
    expect(queue_row(page, receipt)).to_be_visible()
    table = page.get_by_role("region", name="処理待ちの申請")
    expect(table).to_have_attribute("tabindex", "0")
    small.check("queue-390")
    page.set_viewport_size({"width": 768, "height": 1024})
    small.check("queue-768")
    page.set_viewport_size(PHONE["viewport"])

    queue_row(page, receipt).get_by_role("link", name=receipt).click()
    expect(page).to_have_url(re.compile(rf"/office/applications/{public_id}$"))
    expect(state_shown(page)).to_have_text("受付")
    small.check("application-390")
    page.set_viewport_size({"width": 768, "height": 1024})
    small.check()
    small.finish()


# -- counter filing ----------------------------------------------------------


def test_counter_filing_and_logging_out(
    open_browser: Callable[..., Page], live_server: LiveServer
) -> None:
    clerk = Desk(open_browser("counter"))
    page = clerk.page
    log_in(clerk, new_staff(live_server, "clerk-d", "clerk"))
    page.get_by_role("link", name="窓口受付").click()
    expect(heading(page)).to_have_text("窓口受付")
    clerk.check()
    page.get_by_label("手続名").select_option(label="住民票の写しの交付請求")
    page.get_by_role("button", name="開始").click()

    expect(heading(page)).to_have_text("どなたの申請ですか")
    clerk.check()
    page.get_by_role("button", name="保存して次へ").click()

    expect(heading(page)).to_have_text("請求者")
    clerk.check()
    page.get_by_role("button", name="保存して次へ").click()  # empty: every mistake shown
    expect(page.get_by_role("alert")).to_contain_text("入力内容に誤りがあります")
    expect(page.get_by_label("氏名", exact=True)).to_have_attribute("aria-invalid", "true")
    clerk.check()
    page.get_by_label("氏名", exact=True).fill("北 一郎")
    page.get_by_label("氏名（フリガナ）").fill("キタ イチロウ")
    page.get_by_label("生年月日").fill("1970-01-15")
    page.get_by_label("住所の郵便番号").fill("530-0001")
    page.get_by_label("住所", exact=True).fill("大阪市北区梅田1-1-1")
    page.get_by_label("日中の連絡先電話番号").fill("06-6313-9986")
    page.get_by_role("button", name="保存して次へ").click()

    expect(heading(page)).to_have_text("請求の内容")
    clerk.check()
    page.get_by_label("使用目的（提出先）").select_option(index=1)
    page.get_by_role("button", name="保存して次へ").click()

    expect(heading(page)).to_have_text("申請者と一緒に入力内容を確認してください")
    clerk.check()
    page.get_by_role("button", name="申請する").click()  # the declaration is not ticked
    expect(page.get_by_role("alert")).to_contain_text("申請者が誓約したことを確認し")
    clerk.check()
    page.get_by_label("申請者が窓口で上記の誓約内容を確認しました。").check()
    page.get_by_role("button", name="申請する").click()

    expect(heading(page)).to_have_text("申請を受け付けました")
    number = page.locator(".facts .receipt-number").inner_text()
    assert re.fullmatch(r"27\d{3}-\d{4}-\d{6}", number), number
    clerk.check()
    page.get_by_role("link", name="申請を開く").click()
    expect(page.locator(".caption .receipt-number")).to_have_text(number)
    expect(page.locator(".facts")).to_contain_text("窓口")
    clerk.check()

    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("status")).to_have_text("ログアウトしました。")
    expect(heading(page)).to_have_text("職員ログイン")
    clerk.check()
    page.goto("/office/queue")
    expect(heading(page)).to_have_text("職員ログイン")  # the queue needs a login again
    clerk.check()
    clerk.finish()
