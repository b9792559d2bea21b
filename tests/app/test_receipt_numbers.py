"""Receipt numbers: per office and year, never given twice, even to filers racing."""

from __future__ import annotations

import concurrent.futures
import re
from pathlib import Path

from dbutil import fresh_database
from flask import Flask
from sqlalchemy.orm import Session

from madoguchi.catalogue import catalogue
from madoguchi.db import Database
from madoguchi.migrations import upgrade
from madoguchi.services.filing import next_receipt_number


def test_receipt_numbers_count_per_office_and_year(migrated_app: Flask, tmp_path: Path) -> None:
    with migrated_app.app_context():
        offices = catalogue().offices()
    with fresh_database(tmp_path, prefix="madoguchi_receipts") as url:
        database = Database(url)
        upgrade(database.engine)
        with Session(database.engine) as session:
            numbers = [
                next_receipt_number(session, offices["kita"], 2026),
                next_receipt_number(session, offices["kita"], 2026),
                next_receipt_number(session, offices["chuo"], 2026),
                next_receipt_number(session, offices["kita"], 2027),
            ]
            session.commit()
        database.engine.dispose()
    assert numbers == [
        "27127-2026-000001",
        "27127-2026-000002",
        "27128-2026-000001",
        "27127-2027-000001",
    ]


def test_forty_filers_at_once_get_forty_different_numbers(
    migrated_app: Flask, tmp_path: Path
) -> None:
    with migrated_app.app_context():
        kita = catalogue().offices()["kita"]
    with fresh_database(tmp_path, prefix="madoguchi_receipts") as url:
        database = Database(url)
        upgrade(database.engine)

        def file_one(_: int) -> str:
            with Session(database.engine) as session:
                number = next_receipt_number(session, kita, 2026)
                session.commit()
                return number

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            numbers = list(pool.map(file_one, range(40)))
        database.engine.dispose()
    assert len(set(numbers)) == 40
    assert all(re.fullmatch(r"27127-2026-\d{6}", n) for n in numbers)
    assert sorted(int(n[-6:]) for n in numbers) == list(range(1, 41))
