"""What residents see of the catalogue: the newest published version of each procedure."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from madoguchi import db
from madoguchi.catalogue import catalogue
from madoguchi.models.catalogue import latest_versions
from workflow.model import Procedure


@dataclass(frozen=True)
class CatalogueEntry:
    procedure: Procedure
    title: str
    summary: str
    category: str
    office: str
    #: labels of the files the resident must prepare
    documents_to_prepare: tuple[str, ...]
    fee_labels: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.procedure.id

    def matches(self, query: str, category: str) -> bool:
        if category and self.category != category:
            return False
        if not query:
            return True
        haystack = _fold(" ".join((self.title, self.summary, self.category, self.procedure.id)))
        return all(word in haystack for word in _fold(query).split())


def _fold(text: str) -> str:
    """Case- and width-insensitive form for searching (ＡＢＣ = abc)."""
    return unicodedata.normalize("NFKC", text).casefold()


def _entry(procedure: Procedure, language: str) -> CatalogueEntry:
    offices = catalogue().offices_result().offices
    office = offices.get(procedure.office)
    if procedure.office == "by_address":
        office_name = {"ja": "住所地の区役所", "en": "The ward office of your address"}[
            "en" if language == "en" else "ja"
        ]
    else:
        office_name = office.name.get(language) if office else procedure.office
    files = tuple(
        f.label.get(language) for f in procedure.all_fields() if f.type == "file" and f.label
    )
    fee_labels = (
        tuple(line.label.get(language) for line in procedure.fee.lines) if procedure.fee else ()
    )
    return CatalogueEntry(
        procedure=procedure,
        title=procedure.title.get(language),
        summary=procedure.summary.get(language) if procedure.summary else "",
        category=procedure.category.get(language) if procedure.category else "",
        office=office_name,
        documents_to_prepare=files,
        fee_labels=fee_labels,
    )


def catalogue_entries(language: str) -> list[CatalogueEntry]:
    rows = latest_versions(db.session())
    entries = [_entry(catalogue().procedure_of(row), language) for row in rows]
    return sorted(entries, key=lambda e: (e.category, e.title))


def catalogue_entry(procedure_id: str, language: str) -> CatalogueEntry | None:
    return next((e for e in catalogue_entries(language) if e.id == procedure_id), None)
