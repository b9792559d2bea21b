"""The catalogue: offices and procedure files, checked and published.

Procedure files are loaded with the form engine's field-type registry.  A
loaded `Procedure` is immutable and keyed by its fingerprint, so it is
parsed once per process and shared by every request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from forms.registry import REGISTRY
from madoguchi.models import ProcedureVersion
from workflow.loader import (
    LoadResult,
    OfficesResult,
    ProcedureError,
    did_you_mean,
    load_offices_file,
    load_procedure_file,
    load_procedure_text,
)
from workflow.model import Office, Procedure
from workflow.source import Diagnostic

OFFICES_FILENAME = "offices.yaml"


@dataclass
class CheckReport:
    results: list[LoadResult] = field(default_factory=list)
    offices: OfficesResult | None = None

    @property
    def diagnostics(self) -> list[Diagnostic]:
        found = list(self.offices.diagnostics) if self.offices else []
        for result in self.results:
            found.extend(result.diagnostics)
        return found

    @property
    def error_count(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "error")

    @property
    def warning_count(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "warning")

    @property
    def procedures(self) -> list[Procedure]:
        return [r.procedure for r in self.results if r.ok and r.procedure is not None]

    def summary(self) -> str:
        ok = len(self.procedures)
        total = len(self.results)
        return (
            f"{total} procedure{'s' if total != 1 else ''} checked: {ok} ok, "
            f"{self.error_count} error{'s' if self.error_count != 1 else ''}, "
            f"{self.warning_count} warning{'s' if self.warning_count != 1 else ''}"
        )


def procedure_files(paths: Iterable[Path | str]) -> list[Path]:
    """The procedure files named by `paths` (files, or folders of *.yaml files)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
                if p.name != OFFICES_FILENAME
            )
        else:
            found.append(path)
    return found


class Catalogue:
    def __init__(
        self, procedures_dir: str, offices_file: str, template_dirs: Sequence[str]
    ) -> None:
        self.procedures_dir = Path(procedures_dir)
        self.offices_file = Path(offices_file)
        self.template_dirs = tuple(Path(p) for p in template_dirs)
        self._offices: OfficesResult | None = None
        self._by_fingerprint: dict[str, Procedure] = {}
        self._lock = threading.Lock()

    # -- offices

    def offices_result(self) -> OfficesResult:
        if self._offices is None:
            self._offices = load_offices_file(self.offices_file)
        return self._offices

    def offices(self) -> dict[str, Office]:
        result = self.offices_result()
        if result.errors:
            raise ProcedureError(result.errors)
        return result.offices

    # -- loading and checking

    def _options(self) -> dict[str, object]:
        return {
            "field_types": REGISTRY,
            "offices": self.offices_result().offices,
            "template_dirs": self.template_dirs,
        }

    def load_file(self, path: Path | str) -> LoadResult:
        result = load_procedure_file(path, **self._options())
        if result.ok and result.procedure is not None:
            with self._lock:
                self._by_fingerprint.setdefault(result.procedure.fingerprint, result.procedure)
        return result

    def check(self, paths: Iterable[Path | str] = ()) -> CheckReport:
        """Check procedure files; one broken file never hides another's errors."""
        report = CheckReport(offices=self.offices_result())
        seen: dict[str, LoadResult] = {}
        for path in procedure_files(list(paths) or [self.procedures_dir]):
            result = self.load_file(path)
            report.results.append(result)
            procedure = result.procedure
            if procedure is None:
                continue
            if procedure.id in seen:
                first = seen[procedure.id]
                result.diagnostics.append(
                    Diagnostic(
                        "error",
                        procedure.location,
                        f"procedure id '{procedure.id}' is already used by {first.path}",
                    )
                )
                result.procedure = None
                continue
            seen[procedure.id] = result
        return report

    def from_source(self, source: str, source_path: str, fingerprint: str) -> Procedure:
        """The procedure of a stored version, parsed once per process."""
        cached = self._by_fingerprint.get(fingerprint)
        if cached is not None:
            return cached
        result = load_procedure_text(source, source_path, **self._options())
        if not result.ok or result.procedure is None:
            raise ProcedureError(result.errors)
        with self._lock:
            self._by_fingerprint[fingerprint] = result.procedure
        return result.procedure

    # -- publishing

    def publish(
        self, session: Session, paths: Iterable[Path | str] = (), *, by: str | None = None
    ) -> tuple[CheckReport, list[ProcedureVersion]]:
        """Record every changed procedure as a new immutable version.

        Nothing is published when any file has an error.  A file whose
        content changed but whose `version:` did not is an error too: the
        administrator bumps the version to publish a change.
        """
        report = self.check(paths)
        if report.error_count:
            return report, []
        added: list[ProcedureVersion] = []
        for result in report.results:
            procedure = result.procedure
            assert procedure is not None
            existing = session.scalars(
                select(ProcedureVersion).where(ProcedureVersion.procedure_id == procedure.id)
            ).all()
            if any(v.fingerprint == procedure.fingerprint for v in existing):
                continue
            clash = next((v for v in existing if v.version >= procedure.version), None)
            if clash is not None:
                result.diagnostics.append(
                    Diagnostic(
                        "error",
                        procedure.location,
                        f"'{procedure.id}' changed but version {procedure.version} is not"
                        f" newer than published version {clash.version}; bump version: to publish",
                    )
                )
                continue
            source = Path(result.path).read_bytes().decode("utf-8-sig")
            row = ProcedureVersion(
                procedure_id=procedure.id,
                version=procedure.version,
                fingerprint=procedure.fingerprint,
                source=source,
                source_path=result.path,
                title_ja=procedure.title.get("ja"),
                title_en=procedure.title.get("en"),
                published_by=by,
            )
            added.append(row)
        if report.error_count:
            return report, []
        session.add_all(added)
        return report, added

    def procedure_of(self, row: ProcedureVersion) -> Procedure:
        return self.from_source(row.source, row.source_path, row.fingerprint)


def init_app(app: Flask) -> None:
    template_dirs = [app.config["DOCUMENT_TEMPLATES_DIR"]]
    app.extensions["madoguchi.catalogue"] = Catalogue(
        app.config["PROCEDURES_DIR"], app.config["OFFICES_FILE"], template_dirs
    )


def catalogue() -> Catalogue:
    found: Catalogue = current_app.extensions["madoguchi.catalogue"]
    return found


__all__ = ["Catalogue", "CheckReport", "catalogue", "did_you_mean", "procedure_files"]
