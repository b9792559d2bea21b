"""Publishing procedure versions: immutable, and only when the version is bumped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from madoguchi import db
from madoguchi.catalogue import catalogue
from madoguchi.models import ProcedureVersion

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = PROJECT_ROOT / "procedures"


def copy_procedure(tmp_path: Path, name: str = "juminhyo-copy.yaml") -> Path:
    folder = tmp_path / "procedures"
    folder.mkdir()
    shutil.copy(SHIPPED / name, folder / name)
    return folder / name


def versions(procedure_id: str) -> list[tuple[int, str]]:
    rows = db.session().scalars(
        select(ProcedureVersion)
        .where(ProcedureVersion.procedure_id == procedure_id)
        .order_by(ProcedureVersion.version)
    )
    return [(r.version, r.fingerprint) for r in rows]


def test_a_changed_procedure_needs_a_new_version_number(app: Flask, tmp_path: Path) -> None:
    path = copy_procedure(tmp_path)
    with app.app_context():
        _, added = catalogue().publish(db.session(), [path], by="admin")
        assert [r.version for r in added] == [1]
        path.write_text(
            path.read_text(encoding="utf-8").replace(
                "standard_processing_days: 5", "standard_processing_days: 6"
            ),
            encoding="utf-8",
        )
        report, added = catalogue().publish(db.session(), [path], by="admin")
        assert added == []
        assert any("bump version" in d.message for d in report.diagnostics)
        path.write_text(
            path.read_text(encoding="utf-8").replace("version: 1", "version: 2", 1),
            encoding="utf-8",
        )
        _, added = catalogue().publish(db.session(), [path], by="admin")
        assert [r.version for r in added] == [2]
        assert [v for v, _ in versions("juminhyo-copy")] == [1, 2]


def test_comments_and_layout_do_not_make_a_new_version(app: Flask, tmp_path: Path) -> None:
    path = copy_procedure(tmp_path)
    with app.app_context():
        catalogue().publish(db.session(), [path])
        path.write_text(
            "# a comment added by an administrator\n" + path.read_text(encoding="utf-8"),
            encoding="utf-8",
        )
        report, added = catalogue().publish(db.session(), [path])
        assert report.error_count == 0
        assert added == []


def test_nothing_is_published_when_any_file_has_an_error(app: Flask, tmp_path: Path) -> None:
    path = copy_procedure(tmp_path)
    (path.parent / "broken.yaml").write_text("procedure: broken\nversion: one\n", encoding="utf-8")
    with app.app_context():
        report, added = catalogue().publish(db.session(), [path.parent])
        assert added == []
        assert report.error_count > 0
        assert versions("juminhyo-copy") == []


def test_publish_command_reports_what_it_published(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = copy_procedure(tmp_path)
    result = runner.invoke(args=["publish", str(path), "--by", "admin"])
    assert result.exit_code == 0, result.output
    assert "published juminhyo-copy version 1" in result.output
    again = runner.invoke(args=["publish", str(path)])
    assert "0 new versions published" in again.output


def test_demo_command_sets_up_a_fresh_sqlite_database(tmp_path: Path) -> None:
    env = {**os.environ, "MADOGUCHI_DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite"}
    env.pop("DATABASE_URL", None)
    madoguchi = Path(sys.executable).parent / "madoguchi"
    result = subprocess.run(
        [str(madoguchi), "demo", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "demo database ready: 6 new procedure versions published" in result.stdout
    again = subprocess.run(
        [str(madoguchi), "demo", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "demo database ready: 0 new procedure versions published" in again.stdout


def test_demo_command_serves_the_catalogue(tmp_path: Path) -> None:
    """What the README's run command does: set up, then answer on the port."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "MADOGUCHI_DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite",
        "MADOGUCHI_UPLOAD_DIR": str(tmp_path / "files"),
    }
    env.pop("DATABASE_URL", None)
    madoguchi = Path(sys.executable).parent / "madoguchi"
    server = subprocess.Popen(
        [str(madoguchi), "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    html = response.read().decode("utf-8")
                break
            except OSError:
                assert time.monotonic() < deadline, "the demo did not start serving"
                time.sleep(0.5)
        assert "住民票の写しの交付請求" in html
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/office/login", timeout=5) as office:
            assert office.status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
