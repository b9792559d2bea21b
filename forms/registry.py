"""The catalogue of field types the procedure language knows.

`REGISTRY` is what the loader is given as its `FieldTypeCatalog` and what
the form builder asks for a field's behaviour.  A new type is one
`FieldType` subclass decorated with `@register`, in a module imported by
`forms.types`.
"""

from __future__ import annotations

# Importing the package runs every @register of the built-in types.
import forms.types  # noqa: F401
from forms.types.base import REGISTRY, FieldType, FieldTypeRegistry, Upload, register

__all__ = ["REGISTRY", "FieldType", "FieldTypeRegistry", "Upload", "register"]
