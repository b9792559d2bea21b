"""Filing on a phone, end to end: the journeys of tests/app/test_resident_journeys.py
driven through Chromium, with axe and the sideways-scroll check on every page they pass.

The office side of a correction round trip goes through the same service the
back office uses (`transitions.take_action`) in the live server's database.
"""

from __future__ import annotations

import datetime
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from playwright.sync_api import ConsoleMessage, Frame, Locator, Page, expect
from sqlalchemy import select
from support import (
    LiveServer,
    assert_accessible,
    assert_no_horizontal_scroll,
    focused_element,
    screenshot,
)

from forms.samples import SAMPLE_JPEG, SAMPLE_PDF, SAMPLE_PNG
from madoguchi import db
from madoguchi.models import Application
from madoguchi.services import transitions
from workflow.model import today_in_japan

# tests/app is on sys.path only when pytest collects it; the browser suite also runs alone.
_APP_TESTS = str(Path(__file__).resolve().parent.parent / "app")
if _APP_TESTS not in sys.path:
    sys.path.append(_APP_TESTS)

from filing_walker import Walk  # noqa: E402
from helpers import PASSWORD, create_resident, post_form  # noqa: E402

RECEIPT_NUMBER = re.compile(r"^27\d{3}-\d{4}-\d{6}$")
TODAY = today_in_japan()


class Tour:
    """Checks every page a journey reaches: axe (WCAG 2.2 AA) and no sideways scroll.

    Call `check()` after each step; `finish()` then proves that the journey
    checked every page the browser navigated to, and that the console stayed
    clean (but for the statuses the journey expects: a form with mistakes
    comes back as 422, which Chromium logs as a failed load).
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.navigated: list[str] = []
        self.checked: set[str] = set()
        self.console: list[str] = []
        self.expected_statuses: set[int] = set()
        page.on("framenavigated", self._navigated)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console.append(f"uncaught: {error}"))

    def _navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self.navigated.append(frame.url.split("#")[0])

    def _console(self, message: ConsoleMessage) -> None:
        # The card app's pages are another app's: they may lack an icon (as support.py)
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.console.append(f"{message.text} ({message.location.get('url')})")

    def expect_status(self, status: int) -> None:
        self.expected_statuses.add(status)

    def check(self, shot: str | None = None) -> None:
        # A click waits for the next page to commit, not for its stylesheet.
        self.page.wait_for_load_state()
        assert_accessible(self.page)
        assert_no_horizontal_scroll(self.page)
        self.checked.add(self.page.url.split("#")[0])
        if shot and os.environ.get("MADOGUCHI_SCREENSHOTS"):
            screenshot(self.page, f"journey-{shot}", full_page=True)

    def finish(self) -> None:
        unchecked = [url for url in self.navigated if url not in self.checked]
        assert not unchecked, f"pages the journey reached without checking them: {unchecked}"
        expected = tuple(f"status of {code} " for code in self.expected_statuses)
        errors = [m for m in self.console if not (expected and any(e in m for e in expected))]
        assert not errors, "the browser reported errors:\n" + "\n".join(errors)


# -- helpers -----------------------------------------------------------------


def unique_email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}@example.jp"


def log_in(page: Page, live_server: LiveServer, tour: Tour, tag: str) -> str:
    """A new verified resident, logged in through the real login page."""
    email = unique_email(tag)
    create_resident(live_server.app, email)
    page.goto("/login")
    tour.check()
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="ログイン").click()
    expect(heading(page)).to_have_text("申請履歴")
    tour.check()
    return email


def logged_in_client(live_server: LiveServer, email: str) -> FlaskClient:
    """The app's test client, logged in as `email` through the login form."""
    client = live_server.app.test_client()
    response = post_form(client, "/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.text
    return client


def borrow_login(page: Page, live_server: LiveServer, tag: str) -> str:
    """A new verified resident whose session (logged in over HTTP) the phone borrows.

    Quicker than the login page, which `log_in` and test_browser_accounts.py cover.
    """
    email = unique_email(tag)
    create_resident(live_server.app, email)
    cookie = logged_in_client(live_server, email).get_cookie("session")
    assert cookie is not None
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server.url}])
    return email


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def save(page: Page) -> None:
    page.get_by_role("button", name="保存して次へ").click()


def start(page: Page, tour: Tour, procedure_id: str) -> None:
    page.goto(f"/procedures/{procedure_id}")
    tour.check()
    page.get_by_role("button", name="申請を始める").click()


def upload(name: str, data: bytes) -> dict[str, Any]:
    mime = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}
    return {"name": name, "mimeType": mime[Path(name).suffix], "buffer": data}


def file_input(page: Page, label: str) -> Locator:
    """The file input labelled `label` (a checkbox of the same page may share the words)."""
    return page.get_by_label(label, exact=True).and_(page.locator("input[type=file]"))


def in_viewport(page: Page, locator: Locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None
    assert size is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


def review_section(page: Page, title: str) -> Locator:
    return page.locator(".review-section").filter(
        has=page.get_by_role("heading", level=2, name=title, exact=True)
    )


def declare_and_file(page: Page, tour: Tour) -> str:
    """Tick the declaration on the review page, file; the receipt number shown."""
    page.locator("#declaration").check()
    page.get_by_role("button", name="申請する").click()
    if "/card-app/sign" in page.url:
        # `sign: applicant`: the card app signs the answers, then back to file them.
        tour.check()
        page.locator("#pin").fill("abc12345")
        page.locator("button.cardapp-button").click()
        tour.check()
        page.locator("#declaration").check()
        page.get_by_role("button", name="申請する").click()
    expect(heading(page)).to_have_text("申請を受け付けました")
    tour.check()
    number = page.locator(".panel-confirmation .receipt-number").inner_text().strip()
    assert RECEIPT_NUMBER.match(number), number
    expect(page.locator(".facts")).to_contain_text("受付")
    return number


def office_acts(live_server: LiveServer, receipt_number: str, action: str, comment: str) -> None:
    """The back office's side: a clerk takes `action`, as the office UI will."""
    with live_server.db() as session:
        application = session.scalars(
            select(Application).where(Application.receipt_number == receipt_number)
        ).one()
        transitions.take_action(
            session, application, action, roles={"clerk"}, actor="staff:1", comment=comment
        )
        db.commit()


def open_application(page: Page, tour: Tour, receipt_number: str) -> None:
    """From any page: the header's "My applications", then the application's card."""
    page.get_by_role("navigation", name="アカウント情報").get_by_role(
        "link", name="申請履歴"
    ).click()
    expect(heading(page)).to_have_text("申請履歴")
    tour.check()
    card = page.locator(".cards > li").filter(has_text=receipt_number)
    card.get_by_role("link").click()
    expect(page.locator(".caption .receipt-number")).to_have_text(receipt_number)
    tour.check()


# -- moving out, with the household members who move along --------------------


def test_moving_out_with_two_members_one_removed(phone: Page, live_server: LiveServer) -> None:
    page = phone
    tour = Tour(page)
    log_in(page, live_server, tour, "moving-out")
    start(page, tour, "moving-out")

    expect(heading(page)).to_have_text("届出人（現在の住所）")
    tour.check()
    page.get_by_label("氏名", exact=True).fill("大阪 太郎")
    page.get_by_label("氏名（フリガナ）").fill("オオサカ タロウ")
    page.get_by_label("生年月日").fill("1985-04-01")
    page.get_by_label("現住所の郵便番号").fill("530-0001")
    page.get_by_label("現住所", exact=True).fill("大阪市北区梅田1-1-1")
    page.get_by_label("日中の連絡先電話番号").fill("06-6208-8181")
    save(page)

    expect(heading(page)).to_have_text("転出先")
    tour.check()
    page.get_by_label("転出日（予定日）").fill((TODAY + datetime.timedelta(days=10)).isoformat())
    page.get_by_role("radio", name="国内の他の市区町村").check()
    page.get_by_label("転出先の郵便番号").fill("590-0078")
    page.get_by_label("転出先の住所").fill("大阪府堺市堺区南瓦町3-1")
    page.get_by_label("転出先の世帯主の氏名").fill("大阪 太郎")
    page.get_by_role("checkbox", name="同じ世帯で一緒に転出する方がいます").check()
    save(page)

    # The conditional repeating page appears because of the box just ticked.
    expect(heading(page)).to_have_text("一緒に転出する方")
    expect(page.get_by_text("まだ追加されていません。")).to_be_visible()
    tour.check()
    members = page.locator(".items > li")
    for count, (name, kana, born, relation) in enumerate(
        (
            ("大阪 花子", "オオサカ ハナコ", "1987-05-05", "配偶者"),
            ("大阪 一郎", "オオサカ イチロウ", "2015-10-10", "子"),
        ),
        start=1,
    ):
        page.get_by_role("link", name="追加する").click()
        expect(heading(page)).to_contain_text(f"（{count}件目）")
        tour.check()
        page.get_by_label("氏名", exact=True).fill(name)
        page.get_by_label("氏名（フリガナ）").fill(kana)
        page.get_by_label("生年月日").fill(born)
        page.get_by_label("届出人との続柄").select_option(label=relation)
        save(page)
        expect(heading(page)).to_have_text("一緒に転出する方")
        expect(members).to_have_count(count)
        tour.check()
    expect(members.nth(0)).to_contain_text("大阪 花子")
    expect(members.nth(1)).to_contain_text("大阪 一郎")

    # Remove the first; the second becomes item 1.
    members.nth(0).get_by_role("button", name=re.compile(r"^削除")).click()
    expect(page.get_by_role("status")).to_have_text("1件削除しました。")
    expect(members).to_have_count(1)
    expect(members.nth(0)).to_contain_text("大阪 一郎")
    expect(members.nth(0)).not_to_contain_text("大阪 花子")
    expect(members.nth(0).get_by_role("heading")).to_have_text("1件目")
    tour.check()
    save(page)

    expect(heading(page)).to_have_text("関連する手続")
    tour.check()
    page.get_by_role("checkbox", name="国民健康保険").check()
    save(page)

    expect(heading(page)).to_have_text("申請前に入力内容をご確認ください")
    tour.check("review")
    on_review = review_section(page, "一緒に転出する方")
    expect(on_review).to_contain_text("大阪 一郎")
    expect(on_review).to_contain_text("オオサカ　イチロウ")
    expect(on_review).not_to_contain_text("大阪 花子")
    expect(review_section(page, "転出先")).to_contain_text("〒590-0078")
    expect(review_section(page, "関連する手続")).to_contain_text("国民健康保険")
    # One "change" link per page, named after its page for screen readers.
    for title in ("届出人（現在の住所）", "転出先", "一緒に転出する方", "関連する手続"):
        link = review_section(page, title).get_by_role("link", name=f"変更 {title}")
        expect(link).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^変更"))).to_have_count(4)

    # Filing without the declaration is refused (by the browser: the box is required).
    review_url = page.url
    page.get_by_role("button", name="申請する").click()
    expect(page.locator("#declaration:invalid")).to_have_count(1)
    assert page.url == review_url
    receipt_number = declare_and_file(page, tour)

    page.get_by_role("navigation", name="アカウント情報").get_by_role(
        "link", name="申請履歴"
    ).click()
    expect(heading(page)).to_have_text("申請履歴")
    tour.check()
    card = page.locator(".cards > li").filter(has_text=receipt_number)
    expect(card.get_by_role("link")).to_have_text("転出届")
    expect(card.locator(".state")).to_have_text("受付")
    tour.finish()


# -- child allowance: uploads, children, a correction round trip, a withdrawal -


def fill_claimant(page: Page, *, reason: bool = True) -> None:
    page.get_by_label("氏名", exact=True).fill("大阪 花子")
    page.get_by_label("氏名（フリガナ）").fill("オオサカ ハナコ")
    page.get_by_label("生年月日").fill("1990-07-07")
    page.get_by_label("郵便番号", exact=True).fill("543-0001")
    page.get_by_label("住所", exact=True).fill("大阪市天王寺区上本町6-5-18")
    page.get_by_label("電話番号", exact=True).fill("090-1234-5678")
    page.get_by_label("請求者の個人番号").fill("123456789018")
    if reason:
        page.get_by_role("radio", name="児童が生まれた").check()
    page.get_by_label("出生日・転入日など").fill((TODAY - datetime.timedelta(days=3)).isoformat())
    page.get_by_label("勤務先の種類").select_option(label="会社員")
    expect(page.get_by_role("radio", name="厚生年金")).to_be_checked()  # the default


def test_child_allowance_with_uploads_correction_and_withdrawal(
    phone: Page, live_server: LiveServer
) -> None:
    page = phone
    tour = Tour(page)
    email = borrow_login(page, live_server, "child-allowance")
    start(page, tour, "child-allowance")

    expect(heading(page)).to_have_text("請求者")
    tour.check()
    fill_claimant(page)
    save(page)

    expect(heading(page)).to_have_text("養育している児童")
    tour.check()
    children = page.locator(".items > li")
    for count, (name, kana, born) in enumerate(
        (("大阪 陽菜", "オオサカ ヒナ", "2019-03-03"), ("大阪 蓮", "オオサカ レン", "2025-01-20")),
        start=1,
    ):
        page.get_by_role("link", name="追加する").click()
        expect(heading(page)).to_contain_text(f"（{count}件目）")
        tour.check()
        page.get_by_label("児童の氏名", exact=True).fill(name)
        page.get_by_label("児童の氏名（フリガナ）").fill(kana)
        page.get_by_label("児童の生年月日").fill(born)
        expect(page.get_by_role("radio", name="同居")).to_be_checked()
        save(page)
        expect(children).to_have_count(count)
        tour.check()
    save(page)

    expect(heading(page)).to_have_text("振込先口座")
    tour.check()
    page.get_by_label("金融機関名").fill("なにわ銀行")
    page.get_by_label("金融機関コード").fill("0123")
    page.get_by_label("支店名").fill("梅田支店")
    page.get_by_label("支店コード").fill("456")
    page.get_by_label("口座番号").fill("1234567")
    page.get_by_label("口座名義（フリガナ）").fill("オオサカ ハナコ")
    save(page)

    expect(heading(page)).to_have_text("添付書類")
    tour.check()
    page.get_by_role("checkbox", name="健康保険の資格情報が分かる書類").check()
    page.get_by_role("checkbox", name="年金加入証明書").check()
    file_input(page, "健康保険の資格情報が分かる書類").set_input_files(
        [upload("資格確認書-表.pdf", SAMPLE_PDF), upload("資格確認書-裏.png", SAMPLE_PNG)]
    )
    file_input(page, "年金加入証明書").set_input_files([upload("年金加入証明書.jpg", SAMPLE_JPEG)])
    save(page)

    expect(heading(page)).to_have_text("申請前に入力内容をご確認ください")
    tour.check()
    attachments = review_section(page, "添付書類")
    for name in ("資格確認書-表.pdf", "資格確認書-裏.png", "年金加入証明書.jpg"):
        expect(attachments).to_contain_text(name)
    on_review = review_section(page, "養育している児童")
    expect(on_review).to_contain_text("大阪 陽菜")
    expect(on_review).to_contain_text("大阪 蓮")
    expect(page.get_by_text("123456789018")).to_have_count(0)  # sensitive: never shown again
    receipt_number = declare_and_file(page, tour)

    page.get_by_role("link", name="この申請の状況を確認する").click()
    expect(heading(page)).to_have_text("児童手当の認定請求")
    tour.check()
    documents = page.get_by_role("region", name="書類")
    for name in ("資格確認書-表.pdf", "資格確認書-裏.png", "年金加入証明書.jpg"):
        expect(documents.get_by_role("link", name=name)).to_be_visible()

    # The office asks for a correction of the bank account.
    message = "口座番号と支店名が通帳と一致しません。支店名を確認してください。"
    office_acts(live_server, receipt_number, "request_correction", message)
    assert any(email == m.to for m in live_server.outbox), "the resident is told by email"

    page.reload()
    expect(page.locator(".facts .state")).to_have_text("補正依頼中")
    callout = page.get_by_role("region", name="担当窓口から申請内容の補正のお願いがあります")
    expect(callout).to_contain_text(message)
    expect(page.get_by_role("region", name="処理経過")).to_contain_text("補正を依頼")
    tour.check("correction-requested")
    callout.get_by_role("button", name="申請内容を補正する").click()

    expect(heading(page)).to_have_text("補正内容の確認")
    tour.check()
    review_section(page, "振込先口座").get_by_role("link", name="変更 振込先口座").click()
    expect(heading(page)).to_have_text("振込先口座")
    expect(page.get_by_label("支店名")).to_have_value("梅田支店")
    tour.check()
    page.get_by_label("支店名").fill("難波支店")
    save(page)

    expect(heading(page)).to_have_text("補正内容の確認")
    expect(review_section(page, "振込先口座")).to_contain_text("難波支店")
    tour.check()
    page.get_by_role("button", name="補正内容を送信する").click()

    expect(page.get_by_role("status")).to_have_text("補正の内容を担当窓口に送信しました。")
    expect(page.locator(".facts .state")).to_have_text("審査中")
    expect(page.get_by_role("region", name=re.compile("補正のお願い"))).to_have_count(0)
    history = page.get_by_role("region", name="処理経過")
    expect(history).to_contain_text("補正して再提出")
    expect(history).to_contain_text(message)
    expect(page.get_by_role("region", name="申請内容")).to_contain_text("難波支店")
    tour.check()

    # Another application, filed earlier (over plain HTTP), is withdrawn from the phone.
    filed = Walk(logged_in_client(live_server, email), live_server.app, "moving-out").file()
    assert filed.status_code == 302
    with live_server.db() as session:
        other = session.scalars(
            select(Application.receipt_number).where(
                Application.public_id == filed.headers["Location"].rstrip("/").split("/")[-2]
            )
        ).one()
    open_application(page, tour, other)
    expect(page.locator(".facts .state")).to_have_text("受付")
    page.get_by_role("button", name="届出を取り下げる").click()
    expect(page.get_by_role("status")).to_have_text("完了しました。申請の状況を更新しました。")
    expect(page.locator(".facts .state")).to_have_text("取下げ")
    expect(page.get_by_role("button", name="届出を取り下げる")).to_have_count(0)
    tour.check()

    page.get_by_role("link", name="申請履歴", exact=True).last.click()
    tour.check()
    cards = page.locator(".cards > li")
    expect(cards.filter(has_text=other).locator(".state")).to_have_text("取下げ")
    expect(cards.filter(has_text=receipt_number).locator(".state")).to_have_text("審査中")
    tour.finish()


# -- road occupancy, filed by a proxy, with and without JavaScript -------------


def test_road_occupancy_filed_by_a_proxy(any_phone: Page, live_server: LiveServer) -> None:
    """Without JavaScript too: the proxy's fields are always on the page, and the
    server keeps or drops them by the answer to "who is filing"."""
    page = any_phone
    tour = Tour(page)
    borrow_login(page, live_server, "proxy")
    start(page, tour, "road-occupancy")

    expect(heading(page)).to_have_text("どなたの申請ですか")
    expect(page.get_by_role("radio", name="本人として申請する")).to_be_checked()
    tour.check()
    page.get_by_role("radio", name=re.compile("代理人として申請する")).check()
    page.get_by_label("委任者(ご本人)の氏名").fill("株式会社なにわ建設 代表取締役 浪速 一郎")
    page.get_by_label("委任者の住所").fill("大阪市中央区本町1-1")
    page.get_by_label("委任者の生年月日").fill("1970-04-01")
    page.get_by_label("委任者との関係").fill("行政書士")
    page.get_by_label("委任状", exact=True).set_input_files(upload("委任状.pdf", SAMPLE_PDF))
    save(page)

    expect(heading(page)).to_have_text("申請者（法人）")
    tour.check()
    page.get_by_label("法人番号").fill("5835678256246")
    page.get_by_label("名称", exact=True).fill("株式会社なにわ建設")
    page.get_by_label("名称（フリガナ）").fill("カブシキガイシャナニワケンセツ")
    page.get_by_label("代表者の役職・氏名").fill("代表取締役 浪速 一郎")
    page.get_by_label("所在地の郵便番号").fill("541-0053")
    page.get_by_label("所在地", exact=True).fill("大阪市中央区本町1-1")
    page.get_by_label("担当者の氏名").fill("難波 次郎")
    page.get_by_label("担当者の電話番号").fill("06-6208-8181")
    page.get_by_label("担当者のメールアドレス").fill("jiro@naniwa.example.jp")
    save(page)

    expect(heading(page)).to_have_text("占用の内容")
    tour.check()
    page.get_by_label("占用物件").select_option("signboard")
    page.get_by_label("路線名").fill("市道梅田大淀線")
    page.get_by_label("占用の場所").fill("大阪市北区梅田1丁目1番")
    page.get_by_label("占用開始日").fill((TODAY + datetime.timedelta(days=30)).isoformat())
    page.get_by_label("占用終了日").fill((TODAY + datetime.timedelta(days=400)).isoformat())
    page.get_by_label("占用期間（月数）").fill("12")
    page.get_by_label("占用面積（平方メートル）").fill("2")
    page.get_by_label("占用の目的・工事の概要").fill("店舗の突出看板を設置するため。")
    save(page)

    # A signboard needs no traffic page: straight to the drawings.
    expect(heading(page)).to_have_text("図面・写真")
    tour.check()
    page.get_by_label("位置図・平面図・断面図").set_input_files(upload("図面.pdf", SAMPLE_PDF))
    page.get_by_label("現況写真").set_input_files(
        [upload("現況1.png", SAMPLE_PNG), upload("現況2.jpg", SAMPLE_JPEG)]
    )
    save(page)

    expect(heading(page)).to_have_text("申請前に入力内容をご確認ください")
    tour.check()
    proxy = review_section(page, "どなたの申請ですか")
    expect(proxy).to_contain_text("代理人として申請する")
    expect(proxy).to_contain_text("株式会社なにわ建設 代表取締役 浪速 一郎")
    expect(proxy).to_contain_text("委任状.pdf")
    expect(review_section(page, "交通への配慮")).to_have_count(0)
    expect(page.get_by_role("table")).to_contain_text("道路占用料")  # to pay after the permit
    receipt_number = declare_and_file(page, tour)
    assert receipt_number.startswith("27100-"), "the city hall receives road permits"

    page.get_by_role("link", name="この申請の状況を確認する").click()
    expect(heading(page)).to_have_text("道路占用許可申請")
    tour.check()
    documents = page.get_by_role("region", name="書類")
    expect(documents.get_by_role("link", name="委任状.pdf")).to_be_visible()
    tour.finish()


# -- a page with mistakes -----------------------------------------------------


def test_errors_are_summarised_linked_and_kept(any_phone: Page, live_server: LiveServer) -> None:
    page = any_phone
    tour = Tour(page)
    borrow_login(page, live_server, "errors")
    start(page, tour, "child-allowance")
    expect(heading(page)).to_have_text("請求者")
    tour.check()
    fill_claimant(page, reason=False)  # a required radio group left unanswered
    page.get_by_label("氏名（フリガナ）").fill("")  # a required field left empty
    page.get_by_label("郵便番号", exact=True).fill("999-9999")  # no such postal code
    page.get_by_label("住所", exact=True).fill("大阪市天王寺区上本町6-5-18 ハイツ<なにわ>")
    tour.expect_status(422)
    save(page)

    expect(page).to_have_title(re.compile(r"^エラー："))
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading")).to_have_text("入力内容に誤りがあります")
    # At the top: before the page's heading and every field.
    summary_top = summary.bounding_box()
    h1_top = heading(page).bounding_box()
    assert summary_top is not None
    assert h1_top is not None
    assert summary_top["y"] < h1_top["y"]
    links = summary.get_by_role("link")
    expect(links).to_have_count(3)
    expect(links.nth(0)).to_contain_text("氏名（フリガナ）")
    expect(links.nth(1)).to_contain_text("郵便番号")
    expect(links.nth(2)).to_contain_text("請求の理由")
    tour.check("errors")

    # Each field says what is wrong, and is marked invalid for screen readers.
    kana = page.get_by_label("氏名（フリガナ）")
    postal = page.get_by_label("郵便番号", exact=True)
    for field in (kana, postal):
        expect(field).to_have_attribute("aria-invalid", "true")
        message = page.locator(f"#{field.get_attribute('id')}-error")
        expect(message).to_be_visible()
        expect(field).to_have_accessible_description(re.compile("エラー："))
    expect(page.locator("#postal_code-error")).to_contain_text("郵便番号")
    expect(page.locator("#reason-error")).to_be_visible()

    # What was typed is kept, wrong values included.
    expect(page.get_by_label("氏名", exact=True)).to_have_value("大阪 花子")
    expect(postal).to_have_value("999-9999")
    expect(page.get_by_label("住所", exact=True)).to_have_value(
        "大阪市天王寺区上本町6-5-18 ハイツ<なにわ>"
    )
    expect(page.get_by_label("請求者の個人番号")).to_have_value("123456789018")
    expect(page.get_by_label("勤務先の種類")).to_have_value("company")

    # The summary's links take the focus to their fields, whose label and
    # message stay in view above them.
    for link, target in ((links.nth(1), "postal_code"), (links.nth(0), "name_kana")):
        link.click()
        focused = focused_element(page)
        assert page.evaluate("() => document.activeElement.id") == target, focused
        assert focused["onScreen"], focused
        assert in_viewport(page, page.locator(f"label[for={target}]"))
        assert in_viewport(page, page.locator(f"#{target}-error"))
    links.nth(2).click()
    assert page.evaluate("() => document.activeElement.name") == "reason"
    assert in_viewport(page, page.locator("#reason-error"))

    # Put right, the page is saved and the next one opens.
    kana.fill("オオサカ ハナコ")
    postal.fill("543-0001")
    page.get_by_role("radio", name="大阪市に転入した").check()
    save(page)
    expect(heading(page)).to_have_text("養育している児童")
    tour.check()
    tour.finish()
