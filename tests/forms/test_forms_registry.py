"""The registry is the loader's catalogue of field types."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from forms.registry import REGISTRY, FieldType, FieldTypeRegistry, register
from forms.types.base import REGISTRY as BASE_REGISTRY
from workflow.expressions import ValueType
from workflow.model import Field, FieldTypeCatalog, FieldTypeSpec

CONTRACT_TYPES = {
    "text": ValueType.STRING,
    "textarea": ValueType.STRING,
    "kana": ValueType.STRING,
    "email": ValueType.STRING,
    "phone": ValueType.STRING,
    "postal_code": ValueType.STRING,
    "integer": ValueType.INTEGER,
    "decimal": ValueType.DECIMAL,
    "date": ValueType.DATE,
    "boolean": ValueType.BOOLEAN,
    "choice": ValueType.STRING,
    "multi_choice": ValueType.LIST,
    "my_number": ValueType.STRING,
    "corporate_number": ValueType.STRING,
    "file": ValueType.LIST,
    "note": ValueType.NULL,
}

OWN_KEYS = {
    "text": {"max_length": "count", "min_length": "count", "pattern": "regex"},
    "textarea": {"max_length": "count", "min_length": "count", "pattern": "regex"},
    "integer": {"min": "integer", "max": "integer"},
    "decimal": {"min": "number", "max": "number", "places": "count"},
    "date": {"min": "date", "max": "date"},
    "choice": {"choices": "choices", "style": "radio_select"},
    "multi_choice": {"choices": "choices", "min": "count", "max": "count"},
    "file": {"accept": "strings", "max_size_mb": "number", "max_files": "count"},
    "note": {"text": "localized"},
    "email": {},
    "phone": {},
    "postal_code": {},
    "boolean": {},
    "my_number": {},
    "corporate_number": {},
}


def test_every_type_of_the_contract_is_registered_with_its_value_type() -> None:
    assert set(REGISTRY.names()) == set(CONTRACT_TYPES)
    for name, value_type in CONTRACT_TYPES.items():
        spec = REGISTRY.get(name)
        assert spec is not None
        assert spec.name == name
        assert spec.value_type is value_type


@pytest.mark.parametrize(("name", "keys"), sorted(OWN_KEYS.items()))
def test_own_keys_and_their_kinds(name: str, keys: dict[str, str]) -> None:
    assert {key: spec.kind for key, spec in REGISTRY[name].options.items()} == keys
    assert all(spec.doc for spec in REGISTRY[name].options.values())


def test_only_note_takes_no_input() -> None:
    assert [spec.name for spec in REGISTRY if not spec.takes_input] == ["note"]


def test_unknown_type_is_none() -> None:
    assert REGISTRY.get("signature") is None
    assert "signature" not in REGISTRY
    assert "text" in REGISTRY


def test_registry_satisfies_the_catalogue_protocol() -> None:
    catalog: FieldTypeCatalog = REGISTRY
    spec: FieldTypeSpec | None = catalog.get("text")
    assert spec is not None
    assert "text" in list(catalog.names())
    assert REGISTRY is BASE_REGISTRY


def test_adding_a_type_is_one_decorated_class() -> None:
    registry = FieldTypeRegistry()

    @registry.register
    class YearType(FieldType):
        """A year, as four digits."""

        name: str = "year"
        value_type: ValueType = ValueType.INTEGER

        def clean(self, field: Field, raw: Any, *, today: date | None = None) -> Any:
            return int(raw)

        def check_options(self, field: Field) -> Iterator[tuple[str | None, str]]:
            return iter(())

    assert registry.names() == ["year"]
    assert isinstance(registry["year"], YearType)
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(YearType)


def test_the_global_register_refuses_a_second_text_type() -> None:
    class AnotherText(FieldType):
        name: str = "text"
        value_type: ValueType = ValueType.STRING

    with pytest.raises(ValueError, match="registered twice"):
        register(AnotherText)
