"""The public catalogue: what a resident sees before starting a procedure."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from madoguchi import create_app


def titles(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/procedures/[^"]+">([^<]+)</a></h2>', html)


def test_catalogue_lists_every_published_procedure(client: FlaskClient, published: None) -> None:
    response = client.get("/", headers={"Accept-Language": "ja"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert "住民票の写しの交付請求" in titles(html)
    assert len(titles(html)) >= 6


def test_catalogue_is_empty_before_anything_is_published(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert titles(html) == []
    assert "該当する手続きはありません" in html


def test_browser_language_english_shows_english_titles(
    client: FlaskClient, published: None
) -> None:
    html = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Request for a copy of the residence certificate" in " ".join(titles(html))


def test_language_switch_is_remembered(client: FlaskClient, published: None) -> None:
    client.get("/?lang=en", headers={"Accept-Language": "ja"})
    html = client.get("/", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_search_by_text_is_width_and_case_insensitive(client: FlaskClient, published: None) -> None:
    html = client.get("/?q=住民票 写し").get_data(as_text=True)
    assert titles(html) == ["住民票の写しの交付請求"]
    english = client.get("/?lang=en&q=DOG").get_data(as_text=True)
    assert len(titles(english)) == 1
    assert "dog" in titles(english)[0].lower()


def test_search_by_category(client: FlaskClient, published: None) -> None:
    html = client.get("/").get_data(as_text=True)
    categories = re.findall(r'<option value="([^"]+)"', html)
    assert categories, "the category filter offers the categories of the catalogue"
    filtered = client.get("/", query_string={"category": categories[0]}).get_data(as_text=True)
    assert 0 < len(titles(filtered)) < len(titles(html))


def test_procedure_page_tells_what_to_prepare(client: FlaskClient, published: None) -> None:
    html = client.get("/procedures/child-allowance?lang=ja").get_data(as_text=True)
    assert "ご用意いただくもの" in html
    assert "標準処理期間" in html
    fee_page = client.get("/procedures/juminhyo-copy?lang=en").get_data(as_text=True)
    assert "paid when you file" in fee_page


def test_unknown_procedure_is_404(client: FlaskClient, published: None) -> None:
    assert client.get("/procedures/no-such-thing").status_code == 404


def test_create_app_uses_sqlite_in_the_instance_folder_by_default(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["DATABASE_URL"].startswith("sqlite:///")
    assert app.config["DATABASE_URL"].endswith("instance/madoguchi.sqlite")


def test_database_url_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://someone@db.example/madoguchi")
    app = create_app()
    assert app.config["DATABASE_URL"] == "postgresql+psycopg://someone@db.example/madoguchi"
