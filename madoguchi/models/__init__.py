"""Database models, one module per area; importing this registers them all."""

from madoguchi.models.applications import (
    Application,
    ApplicationEvent,
    Draft,
    GeneratedDocument,
    ReceiptCounter,
    StoredFile,
)
from madoguchi.models.audit import AuditEvent
from madoguchi.models.base import Base
from madoguchi.models.catalogue import ProcedureVersion
from madoguchi.models.payments import Payment, PaymentEvent, StubIntent, StubWebhookDelivery
from madoguchi.models.residents import EmailToken, Resident
from madoguchi.models.signatures import ApplicationSignature
from madoguchi.models.staff import ApplicationNote, Staff, StaffRole

__all__ = [
    "Application",
    "ApplicationEvent",
    "ApplicationNote",
    "ApplicationSignature",
    "AuditEvent",
    "Base",
    "Draft",
    "EmailToken",
    "GeneratedDocument",
    "Payment",
    "PaymentEvent",
    "ProcedureVersion",
    "ReceiptCounter",
    "Resident",
    "Staff",
    "StaffRole",
    "StoredFile",
    "StubIntent",
    "StubWebhookDelivery",
]
