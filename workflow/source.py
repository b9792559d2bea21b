"""YAML with positions: every node keeps the line and column it came from.

Procedure files are written by administrators, not programmers, so every
message about them must point at a place in the file.  PyYAML's composer
already records a start mark on every node; this module turns its node graph
into small immutable wrappers (`Scalar`, `Mapping`, `Sequence`) that keep
those marks, rejects duplicate keys, anchors/aliases and tags the language
does not use, and resolves booleans the YAML 1.2 way (only ``true`` and
``false``) so that a choice value ``no`` or a key ``on`` stays a string.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file: 1-based line and column, as editors show them."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def shifted(self, offset: int, text: str) -> Location:
        """The location `offset` characters into `text`, which starts here.

        Used to point inside an expression; only exact for plain one-line
        scalars, which is how expressions are written.
        """
        before = text[:offset]
        newlines = before.count("\n")
        if newlines:
            return Location(self.file, self.line + newlines, len(before) - before.rfind("\n"))
        return Location(self.file, self.line, self.col + offset)


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message}"


@dataclass
class Diagnostics:
    """Collects every problem of a file so that one mistake hides no other."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, location: Location, message: str) -> None:
        self.items.append(Diagnostic("error", location, message))

    def warning(self, location: Location, message: str) -> None:
        self.items.append(Diagnostic("warning", location, message))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=lambda d: (d.location, d.severity, d.message))


class SourceError(Exception):
    """The file cannot be read as YAML at all (syntax error, duplicate key...)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


@dataclass(frozen=True)
class Node:
    location: Location


@dataclass(frozen=True)
class Scalar(Node):
    value: Any
    #: True when the scalar was written in quotes (so ``'3'`` is text, ``3`` a number).
    quoted: bool = False

    @property
    def kind(self) -> str:
        return kind_of(self.value)


@dataclass(frozen=True)
class Mapping(Node):
    #: key text -> (location of the key, value node); insertion order is file order.
    entries: dict[str, tuple[Location, Node]]

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def get(self, key: str) -> Node | None:
        entry = self.entries.get(key)
        return entry[1] if entry else None

    def key_location(self, key: str) -> Location:
        return self.entries[key][0]


@dataclass(frozen=True)
class Sequence(Node):
    items: tuple[Node, ...]


def kind_of(value: Any) -> str:
    """The name of a YAML value's type, as messages show it to administrators."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "decimal number"
    if isinstance(value, datetime.date):
        return "date"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def to_plain(node: Node) -> Any:
    """The node as plain Python data (dicts, lists, scalars)."""
    if isinstance(node, Mapping):
        return {key: to_plain(value) for key, (_, value) in node.entries.items()}
    if isinstance(node, Sequence):
        return [to_plain(item) for item in node.items]
    assert isinstance(node, Scalar)
    return node.value


class _Loader(yaml.SafeLoader):
    """SafeLoader whose booleans are YAML 1.2's: only true/false."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# Numbers too are YAML 1.2's: `0123` is 123 (not octal 83), `9:00` is text
# (not 540 seconds), `1_000` is text.
_INT_12 = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_12 = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
}
for _first in "-+0123456789":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0, ("tag:yaml.org,2002:int", _INT_12)
    )
for _first in "-+.0123456789":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).append(
        ("tag:yaml.org,2002:float", _FLOAT_12)
    )


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)

for _first in "tTfF":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0,
        (
            "tag:yaml.org,2002:bool",
            re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        ),
    )

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


def _mark(filename: str, mark: yaml.Mark | None) -> Location:
    if mark is None:
        return Location(filename, 1, 1)
    return Location(filename, mark.line + 1, mark.column + 1)


def _problem_message(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return "YAML syntax error: " + ("; ".join(parts) if parts else "cannot parse")


def parse_yaml(text: str, filename: str) -> Node:
    """Parse one YAML document into located nodes, or raise `SourceError`."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise SourceError(
            [Diagnostic("error", _mark(filename, mark), _problem_message(exc))]
        ) from None
    except yaml.YAMLError as exc:
        raise SourceError(
            [Diagnostic("error", Location(filename, 1, 1), f"YAML error: {exc}")]
        ) from None
    finally:
        loader.dispose()
    if root is None:
        raise SourceError([Diagnostic("error", Location(filename, 1, 1), "the file is empty")])
    errors: list[Diagnostic] = []
    node = _convert(root, filename, loader, errors, seen=set())
    if errors:
        raise SourceError(errors)
    return node


def _convert(
    node: yaml.Node,
    filename: str,
    loader: yaml.SafeLoader,
    errors: list[Diagnostic],
    seen: set[int],
) -> Node:
    location = _mark(filename, node.start_mark)
    if id(node) in seen:
        # The composer hands back the same node object for an alias.
        errors.append(Diagnostic("error", location, "anchors and aliases (&, *) are not supported"))
        return Scalar(location, None)
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        entries: dict[str, tuple[Location, Node]] = {}
        for key_node, value_node in node.value:
            key_location = _mark(filename, key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                errors.append(Diagnostic("error", key_location, "a key must be plain text"))
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                errors.append(
                    Diagnostic("error", key_location, "merge keys (<<) are not supported")
                )
                continue
            key = str(key_node.value)
            if key in entries:
                first = entries[key][0]
                errors.append(
                    Diagnostic(
                        "error",
                        key_location,
                        f"duplicate key '{key}' (first given at line {first.line})",
                    )
                )
                continue
            entries[key] = (key_location, _convert(value_node, filename, loader, errors, seen))
        return Mapping(location, entries)
    if isinstance(node, yaml.SequenceNode):
        return Sequence(
            location,
            tuple(_convert(item, filename, loader, errors, seen) for item in node.value),
        )
    assert isinstance(node, yaml.ScalarNode)
    if node.tag not in _PLAIN_TAGS:
        errors.append(Diagnostic("error", location, f"unsupported YAML tag {node.tag}"))
        return Scalar(location, node.value, quoted=True)
    try:
        value = loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:
        errors.append(Diagnostic("error", location, f"invalid value {node.value!r}: {exc}"))
        value = node.value
    if isinstance(value, datetime.datetime):
        errors.append(Diagnostic("error", location, "a date and time is not accepted here"))
    return Scalar(location, value, quoted=node.style in ("'", '"'))
