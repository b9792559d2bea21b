"""Uploaded files: checked by their content, never by their name.

A file's type is sniffed from its first bytes (`forms.normalise.sniff_mime`);
the name and the content type the browser sends are whatever the sender
says, so a PNG renamed ``.pdf`` is still a PNG and is refused where only
PDFs are accepted.  The stored value is a list of small dicts (name, size,
sha256, mime, key); the bytes themselves go to the application's storage
under `key`, which is the content's sha256, so the same file uploaded twice
is stored once.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import wtforms

from forms import normalise
from forms.messages import LABELS, Invalid
from forms.types.base import FieldType, Upload, getlist, register
from workflow.expressions import ValueType
from workflow.model import Field, LocalizedText, OptionSpec

__all__ = [
    "DEFAULT_MAX_FILES",
    "DEFAULT_MAX_SIZE_MB",
    "FileType",
    "as_upload",
]

DEFAULT_MAX_SIZE_MB = 10
DEFAULT_MAX_FILES = 1
_MEGABYTE = 1024 * 1024
_MAX_NAME_LENGTH = 200

_TYPE_NAMES: Mapping[str, str | LocalizedText] = MappingProxyType(
    {
        "application/pdf": "PDF",
        "image/png": "PNG",
        "image/jpeg": "JPEG",
        "image/gif": "GIF",
        "image/webp": "WebP",
        "image/heic": "HEIC",
        "image/heif": "HEIF",
        "text/plain": LocalizedText(tuple(LABELS["text_files"].items())),
        "image/*": LocalizedText(tuple(LABELS["images"].items())),
        "text/*": LocalizedText(tuple(LABELS["text_files"].items())),
        "*/*": LocalizedText(tuple(LABELS["any_file"].items())),
    }
)
_MAJOR_TYPES = frozenset(mime.split("/")[0] for mime in normalise.KNOWN_MIME_TYPES)


def _valid_accept(pattern: str) -> bool:
    if pattern in normalise.KNOWN_MIME_TYPES or pattern == "*/*":
        return True
    major, _, minor = pattern.partition("/")
    return minor == "*" and major in _MAJOR_TYPES


def _clean_name(name: str) -> str:
    """The name to show for an upload: no folders, no control characters."""
    # Old browsers send the full path ("C:\\fakepath\\scan.pdf").
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(char for char in base if unicodedata.category(char)[0] != "C").strip()
    return base[:_MAX_NAME_LENGTH]


def as_upload(obj: Any, limit: int) -> Upload | None:
    """An `Upload` from what a web framework hands over; None for "no file chosen".

    Reads at most `limit + 1` bytes: enough to know a file is too large
    without holding all of a huge one in memory.
    """
    if obj is None:
        return None
    if isinstance(obj, Upload):
        return obj
    if isinstance(obj, bytes):
        return Upload("", obj)
    name = getattr(obj, "filename", None) or getattr(obj, "name", None) or ""
    reader = getattr(obj, "read", None)
    if reader is None:
        return None
    data = reader(limit + 1)
    if not name and not data:
        return None  # an empty file part: the browser's "nothing selected"
    return Upload(str(name), bytes(data))


@register
class FileType(FieldType):
    """One or more uploaded files of the `accept`ed types, each at most `max_size_mb`."""

    name: str = "file"
    value_type: ValueType = ValueType.LIST
    options: Mapping[str, OptionSpec] = MappingProxyType(
        {
            "accept": OptionSpec("strings", "the accepted MIME types (image/* for any image)"),
            "max_size_mb": OptionSpec("number", "the largest size of one file, in MB"),
            "max_files": OptionSpec("count", "how many files may be attached"),
        }
    )
    required_key: str = "required.file"
    html_required: bool = False

    def empty(self) -> Any:
        return []

    # --- the definition -----------------------------------------------------

    def check_options(self, field: Field) -> Iterator[tuple[str | None, str]]:
        for pattern in field.option("accept", ()):
            if not _valid_accept(pattern):
                yield (
                    "accept",
                    f"unknown file type '{pattern}'; use "
                    f"{', '.join(normalise.KNOWN_MIME_TYPES)} or image/*",
                )
        size = field.option("max_size_mb")
        if size is not None and Decimal(str(size)) <= 0:
            yield "max_size_mb", "max_size_mb must be more than 0"
        count = field.option("max_files")
        if count is not None and count < 1:
            yield "max_files", "max_files must be at least 1"

    def check_default(self, field: Field) -> Iterator[tuple[str | None, str]]:
        yield "default", "a file field cannot have a default"

    # --- limits ---------------------------------------------------------------

    def accept(self, field: Field) -> tuple[str, ...]:
        return tuple(field.option("accept", ())) or normalise.KNOWN_MIME_TYPES

    def max_files(self, field: Field) -> int:
        return int(field.option("max_files", DEFAULT_MAX_FILES))

    def max_size_mb(self, field: Field) -> Decimal:
        return Decimal(str(field.option("max_size_mb", DEFAULT_MAX_SIZE_MB)))

    def max_bytes(self, field: Field) -> int:
        return int(self.max_size_mb(field) * _MEGABYTE)

    # --- forms ----------------------------------------------------------------

    def build_field(self, field: Field, language: str) -> Any:
        kwargs = self.field_kwargs(field, language)
        kwargs.pop("default")
        render_kw = {}
        if field.option("accept"):
            render_kw["accept"] = ",".join(field.option("accept"))
        if self.max_files(field) > 1:
            return wtforms.MultipleFileField(render_kw=render_kw, **kwargs)
        return wtforms.FileField(render_kw=render_kw, **kwargs)

    def read_raw(self, field: Field, formdata: Any, files: Any = None) -> Any:
        limit = self.max_bytes(field)
        uploads = (as_upload(item, limit) for item in getlist(files, field.id))
        return [upload for upload in uploads if upload is not None]

    def is_empty(self, raw: Any) -> bool:
        return not raw

    def clean(self, field: Field, raw: Any, *, today: datetime.date | None = None) -> Any:
        return [described for described, _ in self.clean_uploads(field, raw)]

    def clean_uploads(
        self, field: Field, uploads: Iterable[Upload]
    ) -> list[tuple[dict[str, Any], bytes]]:
        """Each accepted upload's stored description with its bytes; raises `Invalid`."""
        uploads = list(uploads)
        if len(uploads) > self.max_files(field):
            raise Invalid("file.too_many", max=self.max_files(field))
        accept = self.accept(field)
        result = []
        for upload in uploads:
            name = _clean_name(upload.name)
            if not upload.data:
                raise Invalid("file.empty", name=name)
            if upload.size > self.max_bytes(field):
                raise Invalid("file.too_large", name=name, max=self.max_size_mb(field))
            mime = normalise.sniff_mime(upload.data)
            if mime is None or not normalise.mime_accepted(mime, accept):
                names = [_TYPE_NAMES.get(pattern, pattern) for pattern in accept]
                raise Invalid("file.type_not_accepted", name=name, accepted=names)
            digest = hashlib.sha256(upload.data).hexdigest()
            described = {
                "name": name,
                "size": upload.size,
                "sha256": digest,
                "mime": mime,
                "key": digest,
            }
            result.append((described, upload.data))
        return result

    def to_raw(self, field: Field, value: Any) -> Any:
        return None  # a file input cannot be filled in again

    def display(self, field: Field, value: Any, language: str) -> str:
        separator = "、" if language == "ja" else ", "
        return separator.join(str(item.get("name", "")) for item in value or ())

    def to_json(self, field: Field, value: Any) -> Any:
        return None if value is None else [dict(item) for item in value]

    def from_json(self, field: Field, data: Any) -> Any:
        return None if data is None else [dict(item) for item in data]
