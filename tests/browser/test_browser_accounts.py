"""Accounts on a phone: the login page, signing up with an emailed link, and the
My Number Card app stand-in (card list, PIN, first-visit email) — with axe and
the sideways-scroll check on every page, the card app's own pages included."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select
from support import LiveServer
from test_browser_filing import Tour, heading, unique_email

from madoguchi.identity import cardapp
from madoguchi.models import Resident

_APP_TESTS = str(Path(__file__).resolve().parent.parent / "app")
if _APP_TESTS not in sys.path:
    sys.path.append(_APP_TESTS)

from helpers import PASSWORD, create_resident, link_in  # noqa: E402


def test_log_in_and_out_through_the_login_page(any_phone: Page, live_server: LiveServer) -> None:
    page = any_phone
    tour = Tour(page)
    email = unique_email("login")
    create_resident(live_server.app, email)

    page.goto("/procedures/juminhyo-copy")
    tour.check()
    header = page.get_by_role("navigation", name="アカウント情報")
    header.get_by_role("link", name="ログイン").click()
    expect(heading(page)).to_have_text("ログイン")
    tour.check()

    # A wrong password: one message for both fields, the address kept, the password not.
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill("not the password at all")
    page.get_by_role("main").get_by_role("button", name="ログイン").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("メールアドレスまたはパスワードが正しくありません")
    expect(page).to_have_title(re.compile(r"^エラー："))
    expect(page.get_by_label("メールアドレス")).to_have_value(email)
    expect(page.get_by_label("メールアドレス")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("パスワード")).to_have_value("")
    tour.check("login-errors")
    summary.get_by_role("link").click()
    assert page.evaluate("() => document.activeElement.id") == "email"

    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="ログイン").click()
    # Back where the resident was before logging in.
    expect(page).to_have_url(re.compile(r"/procedures/juminhyo-copy$"))
    expect(page.get_by_role("navigation", name="アカウント情報")).to_contain_text("ログアウト")
    tour.check()

    page.get_by_role("navigation", name="アカウント情報").get_by_role(
        "link", name="申請履歴"
    ).click()
    expect(heading(page)).to_have_text("申請履歴")
    expect(page.get_by_text("申請はまだありません。")).to_be_visible()
    tour.check()

    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("status")).to_have_text("ログアウトしました。")
    nav = page.get_by_role("navigation", name="アカウント情報")
    expect(nav.get_by_role("link", name="ログイン")).to_be_visible()
    tour.check()
    tour.finish()


def test_sign_up_confirm_the_address_and_log_in(phone: Page, live_server: LiveServer) -> None:
    page = phone
    tour = Tour(page)
    email = unique_email("signup")
    page.goto("/login")
    tour.check()
    page.get_by_role("link", name="アカウントの作成").click()
    expect(heading(page)).to_have_text("アカウントの作成")
    tour.check()

    # Mistakes first: a malformed address and passwords that differ.
    page.get_by_label("メールアドレス").fill("hanako@")
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_label("パスワード（確認用）").fill(PASSWORD + "!")
    page.get_by_role("button", name="アカウントを作成する").click()
    links = page.get_by_role("alert").get_by_role("link")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_attribute("href", "#email")
    expect(links.nth(1)).to_have_attribute("href", "#password_confirm")
    expect(page.get_by_label("メールアドレス")).to_have_value("hanako@")
    expect(page.get_by_label("パスワード", exact=True)).to_have_value("")
    tour.check()

    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_label("パスワード（確認用）").fill(PASSWORD)
    page.get_by_role("button", name="アカウントを作成する").click()
    expect(heading(page)).to_have_text("メールをご確認ください")
    expect(page.get_by_role("main")).to_contain_text(email)
    tour.check()

    mail = next(m for m in reversed(live_server.outbox) if m.to == email)
    page.goto(link_in(mail))
    expect(page.get_by_role("status")).to_have_text(
        "メールアドレスの確認が完了しました。続けるにはログインしてください。"
    )
    expect(heading(page)).to_have_text("ログイン")
    tour.check()
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="ログイン").click()
    expect(heading(page)).to_have_text("申請履歴")
    tour.check()
    tour.finish()


def unlinked_card(live_server: LiveServer) -> cardapp.DemoCard:
    """A demo card no account uses yet (the live database is shared by the session)."""
    with live_server.db() as session:
        used = set(session.scalars(select(Resident.card_serial)).all())
    free = [card for card in cardapp.DEMO_CARDS if card.serial not in used]
    assert free, "every demo card already has an account in the live database"
    return free[0]


def test_card_app_login_creates_an_account(any_phone: Page, live_server: LiveServer) -> None:
    page = any_phone
    tour = Tour(page)
    live_server.app.extensions[cardapp.EXTENSION].reset()  # no card locked by earlier tests
    card = unlinked_card(live_server)
    email = unique_email("card")

    page.goto("/login")
    tour.check()
    page.get_by_role("link", name="マイナンバーカード読み取りアプリでログイン").click()

    # The stand-in card app: another look, its own pages.
    expect(heading(page)).to_have_text("窓口での本人確認")
    expect(page).to_have_url(re.compile(r"/card-app/authorize\?"))
    tour.check("card-app-cards")
    page.get_by_role("link", name=re.compile(f"このカードを読み取る.*{card.name}")).click()

    expect(heading(page)).to_have_text("暗証番号の入力")
    tour.check()
    pin = page.get_by_label(re.compile("暗証番号"))
    pin.fill("0000")
    page.get_by_role("button", name="確認").click()
    expect(page.get_by_role("alert")).to_contain_text("暗証番号が正しくありません")
    expect(pin).to_have_attribute("aria-invalid", "true")
    tour.check("card-app-wrong-pin")

    pin.fill(cardapp.DEMO_PIN)
    page.get_by_role("button", name="確認").click()

    # Back in Madoguchi: a first visit with this card asks for an email address.
    expect(heading(page)).to_have_text("アカウントの作成を完了してください")
    expect(page.get_by_role("main")).to_contain_text(card.name)
    tour.check()
    page.get_by_label("メールアドレス").fill("not an address")
    page.get_by_role("button", name="アカウントを作成する").click()
    expect(page.get_by_role("alert").get_by_role("link")).to_have_count(1)
    expect(page.get_by_label("メールアドレス")).to_have_value("not an address")
    tour.check()
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_role("button", name="アカウントを作成する").click()

    expect(page.get_by_role("status")).to_contain_text("アカウントを作成しました")
    expect(heading(page)).to_have_text("申請履歴")
    tour.check()
    assert any(m.to == email for m in live_server.outbox), "the address gets a link to confirm it"

    page.goto("/account")
    expect(page.get_by_role("main")).to_contain_text("マイナンバーカードで本人確認済み")
    expect(page.get_by_role("main")).to_contain_text(card.name)
    tour.check()
    tour.finish()
