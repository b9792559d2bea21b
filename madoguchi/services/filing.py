"""Filing: a complete draft becomes an application, atomically and once.

Everything is written in the request's one transaction: the application
with its answers and pinned procedure version, its files, the receipt
number, the first state and its history event, and the audit row.  The
receipt PDF and the email follow after the commit.  Filing the same draft
twice (a double tap, a retry) gives back the application filed the first
time.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from forms.answers import prune_hidden, to_json
from forms.builder import Problem, check_answers
from forms.fees import compute_fee
from forms.messages import Invalid
from forms.normalise import lookup_postal_code
from madoguchi.catalogue import catalogue
from madoguchi.models import (
    Application,
    ApplicationEvent,
    Draft,
    ProcedureVersion,
    ReceiptCounter,
    Resident,
)
from madoguchi.services import audit, proxy
from madoguchi.services.drafts import answers_of, new_public_id, procedure_of
from madoguchi.services.drafts import pages_in_order as draft_pages
from workflow.calendar import default_calendar
from workflow.model import Office, Procedure, today_in_japan

TOKYO = datetime.timezone(datetime.timedelta(hours=9))


class FilingError(Exception):
    """The draft cannot be filed; `problems` say where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class PaymentRequired(FilingError):  # noqa: N818 - reads as `raise PaymentRequired()`
    """The draft is complete but its `before_submit` fee is not paid yet."""

    def __init__(self, problems: list[Problem], amount: int) -> None:
        super().__init__(problems)
        self.amount = amount


@dataclass(frozen=True)
class Filed:
    application: Application
    #: False when the draft had been filed already (a double tap)
    new: bool


def route(procedure: Procedure, answers: dict[str, Any], language: str) -> Office:
    """The office the application goes to: fixed, or the ward of the `route_by` postal code."""
    offices = catalogue().offices()
    if procedure.office != "by_address":
        return offices[procedure.office]
    field_id = procedure.route_by
    assert field_id is not None
    page = procedure.field(field_id).page_id or ""
    try:
        address = lookup_postal_code(str(answers.get(field_id) or ""))
    except Invalid as problem:
        raise FilingError([Problem(page, None, field_id, problem.text(language))]) from None
    by_code = {office.code: office for office in offices.values()}
    office = by_code.get(address.municipality_code)
    if office is None:
        text = (
            "この郵便番号は大阪市外です。お住まいの市区町村の窓口へお申し込みください。"
            if language == "ja"
            else "This postal code is outside Osaka City; please file with your own municipality."
        )
        raise FilingError([Problem(page, None, field_id, text)])
    return office


def next_receipt_number(session: Session, office: Office, year: int) -> str:
    """`27127-2026-000123`: per office and year, unique under concurrency.

    One atomic upsert-and-return on the counter row; concurrent filers
    queue on that row and each gets the next number.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(ReceiptCounter)
        .values(office_code=office.code, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=["office_code", "year"],
            set_={"last_number": ReceiptCounter.last_number + 1},
        )
        .returning(ReceiptCounter.last_number)
    )
    number = session.execute(statement).scalar_one()
    return f"{office.code}-{year}-{number:06d}"


def due_date(procedure: Procedure, state: str, filed_on: datetime.date) -> datetime.date | None:
    if not procedure.workflow.states[state].clock_runs:
        return None
    return default_calendar().add_business_days(filed_on, procedure.standard_processing_days)


def applicant_name(procedure: Procedure, answers: dict[str, Any], resident: Resident | None) -> str:
    """A name to address the applicant by: the first field prefilled with the card's name."""
    for field in procedure.all_fields():
        if field.prefill == "identity.name" and answers.get(field.id):
            return str(answers[field.id])
    for field in procedure.all_fields():
        if field.type == "text" and "name" in field.id and answers.get(field.id):
            return str(answers[field.id])
    if resident is not None and resident.identity:
        return str(resident.identity.get("name", ""))
    return ""


def check_draft(
    session: Session, draft: Draft, *, language: str
) -> tuple[Procedure, dict[str, Any], list[Problem]]:
    """The pinned procedure, the answers as they would be filed, and what is still wrong."""
    procedure = procedure_of(session, draft)
    today = today_in_japan()
    answers = prune_hidden(procedure, answers_of(procedure, draft), today)
    problems = check_answers(procedure, answers, language=language, today=today)
    done = set(draft.completed_pages or [])
    for page in draft_pages(procedure, draft, today):
        if page.id not in done and not any(p.page_id == page.id for p in problems):
            text = (
                "このページはまだ入力されていません。"
                if language == "ja"
                else "This page is not filled in yet."
            )
            problems.append(Problem(page.id, None, None, text))
    if procedure.applicant.proxy == "allowed":
        data = proxy.from_json(draft.proxy or {})
        problems.extend(
            Problem(proxy.PAGE.id, None, p.field_id, p.message)
            for p in check_answers(proxy.PROCEDURE, data, language=language, today=today)
        )
    return procedure, answers, problems


def existing_filing(session: Session, draft_public_id: str) -> Application | None:
    return session.scalars(
        select(Application).where(Application.draft_public_id == draft_public_id)
    ).first()


def file_draft(
    session: Session,
    draft: Draft,
    *,
    email: str,
    resident: Resident | None,
    language: str,
    channel: str = "online",
    actor: str,
) -> Filed:
    """File `draft`; raises `FilingError` listing what to fix."""
    already = existing_filing(session, draft.public_id)
    if already is not None:
        return Filed(already, new=False)
    procedure, answers, problems = check_draft(session, draft, language=language)
    if problems:
        raise FilingError(problems)
    fee = compute_fee(procedure, answers, today_in_japan())
    if procedure.fee is not None and procedure.fee.when == "before_submit" and fee.total > 0:
        from madoguchi.payments.service import payment_for_draft

        payment = payment_for_draft(session, draft.public_id)
        if payment is None or payment.status != "paid" or payment.amount != fee.total:
            text = (
                "この手続きは申請時に手数料のお支払いが必要です。お支払いが済むと申請されます。"
                if language == "ja"
                else "This procedure is paid when you file: it is filed once the fee is paid."
            )
            raise PaymentRequired([Problem("", None, None, text)], fee.total)
    office = route(procedure, answers, language)
    now = datetime.datetime.now(datetime.UTC)
    filed_on = now.astimezone(TOKYO).date()
    initial = procedure.workflow.initial
    version = session.get(ProcedureVersion, draft.procedure_version_id)
    assert version is not None
    application = Application(
        public_id=new_public_id(),
        receipt_number=next_receipt_number(session, office, filed_on.year),
        procedure_version_id=version.id,
        procedure_id=procedure.id,
        procedure_fingerprint=procedure.fingerprint,
        office_id=office.id,
        state=initial,
        state_entered_at=now,
        answers=to_json(procedure, answers),
        resident_id=resident.id if resident else None,
        applicant_email=email,
        applicant_name=applicant_name(procedure, answers, resident),
        proxy=draft.proxy if proxy.is_proxy(draft.proxy) else None,
        channel=channel,
        draft_public_id=draft.public_id,
        filed_at=now,
        due_date=due_date(procedure, initial, filed_on),
        fee_total=fee.total,
        language=language,
    )
    session.add(application)
    session.flush()
    kept = _referenced_files(procedure, answers, draft)
    for stored in list(draft.files):
        if stored.sha256 in kept:
            stored.application_id = application.id
        stored.draft_id = None
    session.add(
        ApplicationEvent(
            application_id=application.id,
            action="file",
            from_state=None,
            to_state=initial,
            by_role="applicant",
            actor=actor,
            fields={},
            edit_pages=[],
            at=now,
        )
    )
    audit.record(
        session,
        actor=actor,
        action="application.filed",
        subject=f"application:{application.receipt_number}",
        data={
            "procedure": procedure.id,
            "version": procedure.version,
            "fingerprint": procedure.fingerprint,
            "office": office.id,
            "state": initial,
            "channel": channel,
        },
        at=now,
    )
    session.delete(draft)
    session.flush()
    return Filed(application, new=True)


def _referenced_files(procedure: Procedure, answers: dict[str, Any], draft: Draft) -> set[str]:
    """sha256 of every file the filed answers (and the proxy page) still point at."""
    found: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and "sha256" in item:
                    found.add(str(item["sha256"]))
                elif isinstance(item, dict):
                    for inner in item.values():
                        collect(inner)

    for value in answers.values():
        collect(value)
    if proxy.is_proxy(draft.proxy):
        for value in (draft.proxy or {}).values():
            collect(value)
    return found


def receipt_mail(application: Application, procedure: Procedure) -> tuple[str, str]:
    title = procedure.title.get(application.language)
    if application.language == "en":
        return (
            f"Received: {title} ({application.receipt_number})",
            f"We have received your application.\n\nProcedure: {title}\n"
            f"Receipt number: {application.receipt_number}\n\n"
            'You can follow its progress under "My applications".\n',
        )
    return (
        f"【受付】{title}({application.receipt_number})",
        f"申請を受け付けました。\n\n手続き: {title}\n受付番号: {application.receipt_number}\n\n"
        "進み具合は「申請履歴」でご確認いただけます。\n",
    )
