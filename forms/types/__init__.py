"""The built-in field types, one module per family.

Importing this package registers every type in `forms.types.base.REGISTRY`;
`forms.registry` is the place to get it from.
"""

from forms.types import choices, dates, files, note, numbers, text

__all__ = ["choices", "dates", "files", "note", "numbers", "text"]
