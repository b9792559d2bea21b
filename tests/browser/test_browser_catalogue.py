"""The catalogue and a procedure page on a phone, with JavaScript and without."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from support import (
    assert_accessible,
    assert_no_console_errors,
    assert_no_horizontal_scroll,
    focused_element,
    screenshot,
    small_tap_targets,
)

CATALOGUE = "/"
PROCEDURE = "/procedures/juminhyo-copy"
PAGES = pytest.mark.parametrize("path", [CATALOGUE, PROCEDURE], ids=["catalogue", "procedure"])

#: what a thumb presses: form controls, the header, the catalogue's and back links
TAP_TARGETS = "button, input, select, .site-header a, .catalogue h2 a, .back a"


def titles(page: Page) -> list[str]:
    return [t.strip() for t in page.locator(".catalogue h2 a").all_inner_texts()]


@PAGES
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_page_is_accessible_and_fits_a_phone(any_phone: Page, path: str, lang: str) -> None:
    page = any_phone
    response = page.goto(f"{path}?lang={lang}")
    assert response is not None
    assert response.ok
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    assert small_tap_targets(page, TAP_TARGETS) == []
    assert_no_console_errors(page)


@PAGES
def test_language_switch_goes_to_english_and_back(any_phone: Page, path: str) -> None:
    page = any_phone
    page.goto(path)
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ja")  # the phone's locale is ja-JP
    japanese_title = page.locator("h1").inner_text()

    page.get_by_role("navigation", name="言語").get_by_role("link", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(rf"{re.escape(path)}\?lang=en$"))
    assert page.locator("h1").inner_text() != japanese_title
    expect(page.locator('.language [aria-current="true"]')).to_have_text("English")
    assert_accessible(page)

    # the choice is remembered in the session cookie (Secure, accepted on 127.0.0.1)
    page.goto(path)
    expect(html).to_have_attribute("lang", "en")

    page.get_by_role("navigation", name="Language").get_by_role("link", name="日本語").click()
    expect(html).to_have_attribute("lang", "ja")
    expect(page.locator("h1")).to_have_text(japanese_title)
    assert_no_console_errors(page)


def test_search_by_keyword_filters_the_list(any_phone: Page) -> None:
    page = any_phone
    page.goto(CATALOGUE)
    everything = titles(page)
    assert len(everything) >= 6

    page.get_by_label("キーワード").fill("住民票 写し")
    page.get_by_role("button", name="検索").click()

    expect(page).to_have_url(re.compile(r"[?&]q=[^&]+"))
    expect(page.locator(".catalogue h2 a")).to_have_count(1)
    assert titles(page) == ["住民票の写しの交付請求"]
    expect(page.get_by_label("キーワード")).to_have_value("住民票 写し")
    expect(page.locator(".count")).to_contain_text(f"{len(everything)}")

    page.get_by_label("キーワード").fill("存在しない手続き")
    page.get_by_label("キーワード").press("Enter")  # implicit submission, no script needed
    expect(page.locator(".catalogue h2 a")).to_have_count(0)
    expect(page.get_by_text("該当する手続きはありません")).to_be_visible()
    assert_accessible(page)
    assert_no_console_errors(page)


def test_search_by_category_filters_the_list(any_phone: Page) -> None:
    page = any_phone
    page.goto(CATALOGUE)
    everything = titles(page)
    page.get_by_label("分類").select_option(label="戸籍・住民票")
    page.get_by_role("button", name="検索").click()
    expect(page).to_have_url(re.compile(r"[?&]category="))
    shown = titles(page)
    assert 0 < len(shown) < len(everything)
    assert "住民票の写しの交付請求" in shown
    assert "転出届" in shown


@PAGES
def test_keyboard_focus_is_visible(any_phone: Page, path: str) -> None:
    page = any_phone
    page.goto(path)

    page.keyboard.press("Tab")
    skip = focused_element(page)
    assert skip["tag"] == "a", skip
    assert skip["href"] == "#main", "the first Tab reaches the skip link"
    assert skip["onScreen"], f"the focused skip link is off screen: {skip}"
    assert skip["outlineStyle"] != "none", skip
    assert skip["outlineWidth"] >= 2, skip

    page.keyboard.press("Tab")
    brand = focused_element(page)
    assert brand["tag"] == "a", brand
    assert brand["outlineStyle"] != "none", brand
    assert brand["outlineWidth"] >= 2, brand
    assert brand["onScreen"], brand

    # the skip link takes the keyboard past the header
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    inside_main = page.evaluate("() => !!document.activeElement.closest('main')")
    assert inside_main, f"after the skip link, Tab went to {focused_element(page)}"
    assert focused_element(page)["outlineStyle"] != "none"


def test_catalogue_screenshot(phone: Page) -> None:
    """A picture of the catalogue on a phone, for people to look at (not compared)."""
    phone.goto(CATALOGUE)
    path = screenshot(phone, "madoguchi-catalogue")
    assert path.stat().st_size > 10_000
    screenshot(phone, "madoguchi-catalogue-full", full_page=True)
