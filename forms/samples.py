"""Sample answers for any field: what an administrator's preview and the tests type in.

Each value is what a person would enter in the form (the raw text, the
choice's value, a small file of an accepted type), valid for the field's
own limits, so that a procedure can be walked from its first page to
filing without knowing anything about it.
"""

from __future__ import annotations

import base64
import datetime
import re
from typing import Any

from forms.normalise import resolve_date_bound
from forms.types.base import Upload
from workflow.model import Field

#: a one-page PDF and a 1×1 PNG, the smallest files the content sniffer accepts
SAMPLE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
SAMPLE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SAMPLE_JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")

_TEXT = {
    "ja": "サンプル",
    "en": "Sample",
}
_PATTERN_CANDIDATES = (
    "1234",
    "123",
    "1234567",
    "12345678",
    "2026-04",
    "A1",
    "abc",
    "1",
)


def _pattern_sample(pattern: str) -> str:
    for candidate in _PATTERN_CANDIDATES:
        if re.fullmatch(pattern.strip("^$"), candidate):
            return candidate
    for length in range(1, 21):
        if re.fullmatch(pattern.strip("^$"), "1" * length):
            return "1" * length
    return "sample"


def _text(field: Field) -> str:
    if field.option("pattern"):
        return _pattern_sample(str(field.option("pattern")))
    text = "大阪 太郎" if "name" in field.id else "サンプル"
    minimum = int(field.option("min_length") or 0)
    maximum = int(field.option("max_length") or 200)
    text = text.ljust(minimum, "あ")
    return text[:maximum]


def _date(field: Field, today: datetime.date) -> str:
    low = resolve_date_bound(field.option("min"), today)
    high = resolve_date_bound(field.option("max"), today)
    wanted = today - datetime.timedelta(days=365 * 30) if high == today else today
    if "birth" not in field.id and high is None:
        wanted = today + datetime.timedelta(days=7)
    if low is not None and wanted < low:
        wanted = low
    if high is not None and wanted > high:
        wanted = high
    return wanted.isoformat()


def _number(field: Field) -> str:
    low = field.option("min")
    high = field.option("max")
    value = 1 if low is None else low
    if high is not None and value > high:
        value = high
    return str(value)


def _file(field: Field) -> Upload:
    accept = tuple(field.option("accept") or ("application/pdf",))
    if any(a in ("application/pdf",) for a in accept):
        return Upload(f"{field.id}.pdf", SAMPLE_PDF)
    if any(a in ("image/png", "image/*") for a in accept):
        return Upload(f"{field.id}.png", SAMPLE_PNG)
    return Upload(f"{field.id}.jpg", SAMPLE_JPEG)


def sample_raw(field: Field, today: datetime.date) -> Any:
    """What a person would type or choose for `field`: text, a list of values, or an upload."""
    kind = field.type
    if kind in ("text", "textarea"):
        return _text(field)
    if kind == "kana":
        return "オオサカ タロウ"
    if kind == "email":
        return "taro@example.jp"
    if kind == "phone":
        return "06-6208-8181"
    if kind == "postal_code":
        return "530-0001"
    if kind in ("integer", "decimal"):
        return _number(field)
    if kind == "date":
        return _date(field, today)
    if kind == "boolean":
        return "y" if field.required else ""
    if kind == "choice":
        default = field.default
        values = [c.value for c in field.choices]
        return str(default) if default in values else values[0]
    if kind == "multi_choice":
        count = max(1, int(field.option("min") or 1))
        return [c.value for c in field.choices[:count]]
    if kind == "my_number":
        return "123456789018"
    if kind == "corporate_number":
        return "5835678256246"
    if kind == "file":
        return _file(field)
    return None


def sample_answers(fields: list[Field], today: datetime.date) -> dict[str, Any]:
    """Sample raw input for every input field of a page."""
    return {
        f.id: value
        for f in fields
        if f.type != "note" and (value := sample_raw(f, today)) not in (None, "")
    }
