"""The built-in proxy page, declared in the procedure language itself.

`builtin/proxy.yaml` is loaded with the same loader and validated with the
same form engine as any procedure page, so a proxy's answers get the same
checks, messages and upload handling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from forms.answers import from_json as _from_json
from forms.answers import to_json as _to_json
from forms.registry import REGISTRY
from workflow.loader import load_procedure
from workflow.model import Page, Procedure

PROCEDURE: Procedure = load_procedure(
    Path(__file__).parent / "builtin" / "proxy.yaml", field_types=REGISTRY
)
PAGE: Page = PROCEDURE.page("filing-for")


def from_json(data: dict[str, Any]) -> dict[str, Any]:
    return _from_json(PROCEDURE, data)


def to_json(values: dict[str, Any]) -> dict[str, Any]:
    return _to_json(PROCEDURE, values)


def is_proxy(data: dict[str, Any] | None) -> bool:
    return bool(data) and (data or {}).get("filer") == "proxy"
