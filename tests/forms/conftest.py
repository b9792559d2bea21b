"""Shared builders for the form engine's tests.

Field types are tested on `Field` objects built directly; page, answer and
fee behaviour on procedures loaded from small YAML texts through the real
loader, so that the tests also prove the registry works as its catalogue.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from forms.registry import REGISTRY
from workflow.expressions import parse
from workflow.loader import load_procedure_text
from workflow.model import Choice, Field, LocalizedText, Procedure, frozen_map
from workflow.source import Location

TODAY = date(2026, 11, 24)

WORKFLOW = """
workflow:
  roles: [clerk]
  initial: received
  states:
    received: {label: 受付, queue: clerk}
    done: {label: 完了, final: true, outcome: approved}
  transitions:
    - {action: finish, from: received, to: done, by: clerk}
"""


def build_field(field_type: str, field_id: str = "f", **keys: Any) -> Field:
    """A `Field` as the loader would build it; `choices` may be (value, label[, amount]) tuples."""
    options = dict(keys.pop("options", {}))
    for key in list(keys):
        if key in REGISTRY[field_type].options:
            options[key] = keys.pop(key)
    if "choices" in options:
        options["choices"] = tuple(
            c if isinstance(c, Choice) else Choice(c[0], LocalizedText.plain(c[1]), *c[2:])
            for c in options["choices"]
        )
    for key in ("show_if", "required_if"):
        if isinstance(keys.get(key), str):
            keys[key] = parse(keys[key])
    return Field(
        id=field_id,
        type=field_type,
        label=keys.pop("label", LocalizedText((("ja", "項目"), ("en", "Item")))),
        location=Location("test.yaml", 1, 1),
        options=frozen_map(options),
        **keys,
    )


def load(body: str) -> Procedure:
    """A procedure from the YAML of its pages (and fee), with a minimal header and workflow."""
    text = (
        "procedure: test\nversion: 1\ntitle: テスト\noffice: city-hall\n"
        "standard_processing_days: 5\nretention_years: 1\n" + textwrap.dedent(body) + WORKFLOW
    )
    result = load_procedure_text(text, "test.yaml", field_types=REGISTRY)
    assert result.ok, "\n".join(str(d) for d in result.diagnostics)
    assert result.procedure is not None
    return result.procedure


@pytest.fixture
def make_field() -> Callable[..., Field]:
    return build_field


@pytest.fixture
def load_procedure() -> Callable[[str], Procedure]:
    return load
