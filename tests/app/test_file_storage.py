"""Uploaded files: stored atomically, never orphaned for long, never lost while referenced."""

from __future__ import annotations

import os
from pathlib import Path

from filing_walker import Walk, csrf_of
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from helpers import log_in_resident
from sqlalchemy import select

from madoguchi import db
from madoguchi.models import StoredFile
from madoguchi.storage import FileStore


def test_content_is_stored_under_its_hash_without_temporary_files(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    digest = store.put(b"%PDF-1.4 hello")
    assert store.get(digest) == b"%PDF-1.4 hello"
    assert store.put(b"%PDF-1.4 hello") == digest
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.name.startswith(".")]
    assert leftovers == []


def age(store: FileStore, digest: str, seconds: int) -> None:
    path = store.path(digest)
    stat = path.stat()
    os.utime(path, (stat.st_atime - seconds, stat.st_mtime - seconds))


def test_a_deleted_draft_leaves_no_orphan_files_after_the_sweep(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, published: None
) -> None:
    log_in_resident(client, "taro@example.jp")
    walk = Walk(client, app, "child-allowance")
    review_url = walk.to_review()
    with app.app_context():
        digests = set(db.session().scalars(select(StoredFile.sha256)))
    assert digests, "the walk uploaded files"
    store = FileStore(app.config["UPLOAD_DIR"])
    for digest in digests:
        age(store, digest, 7200)
    kept = runner.invoke(args=["sweep-files"])
    assert "0 unreferenced files removed" in kept.output, "a draft's files are kept"

    drafts = client.get("/drafts")
    draft_id = review_url.split("/")[-2]
    client.post(f"/drafts/{draft_id}/delete", data={"csrf_token": csrf_of(drafts.text)})
    swept = runner.invoke(args=["sweep-files"])
    assert f"{len(digests)} unreferenced file" in swept.output
    assert not any(store.exists(d) for d in digests)


def test_young_files_survive_the_sweep(app: Flask, runner: FlaskCliRunner) -> None:
    store = FileStore(app.config["UPLOAD_DIR"])
    digest = store.put(b"an upload still on its way to the database")
    result = runner.invoke(args=["sweep-files"])
    assert result.exit_code == 0
    assert store.exists(digest)
