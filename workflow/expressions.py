"""The small, safe expression language of procedure files.

Expressions appear in `show_if`, `required_if`, `if`, `quantity` and `unit`.
They are written by administrators who are not programmers, and they are
evaluated against values typed by the public, so the language is tiny and
nothing here ever hands user text to Python's `eval`/`exec`/`compile`.

Text is parsed with `ast.parse(..., mode="eval")`, which only builds a syntax
tree, and the tree is then translated, node type by node type from a
whitelist, into this module's own small tree. Everything outside the whitelist
(attributes, subscripts, lambdas, comprehensions, f-strings, `**`, `/`, ...)
is rejected with a message and the character offset of the offending part.

Three things can be done with a parsed `Expression`:

* `check(scope)` reports unknown names and plainly incompatible types without
  running anything, for `madoguchi check`;
* `result_type(scope)` tells what kind of value it produces (a fee quantity
  must be a number);
* `evaluate(values, today=...)` runs it. A hidden field is `null`, and null
  flows through without errors (ordering with null is false, arithmetic with
  null is null). Evaluation only ever raises `ExpressionError`, whatever the
  values are, because the values come from the public.

The functions of the language live in `FUNCTIONS`; adding one is adding an
entry there.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import difflib
import enum
import re
import types
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_NUMBER",
    "MAX_SOURCE_LENGTH",
    "MAX_TEXT_LENGTH",
    "CallContext",
    "Expression",
    "ExpressionError",
    "Function",
    "Param",
    "ValueType",
    "parse",
]

# Limits keep a hostile or careless expression (or value) from tying up a
# worker: source length and depth bound the tree, the number bound keeps
# repeated multiplication from growing integers without end, and the text
# bound does the same for repeated concatenation of long values.
MAX_SOURCE_LENGTH = 2000
MAX_DEPTH = 50
MAX_NUMBER = 10**18
MAX_TEXT_LENGTH = 100_000

# Fees are whole yen and quantities are small, so 28 significant digits are
# plenty; trapping the signals turns nonsense (inf - inf, 0/0) into errors
# instead of NaN values that would poison comparisons later.
_DECIMAL_CONTEXT = decimal.Context(
    prec=28,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
_FIELD_ID = re.compile(r"[a-z][a-z0-9_-]*")
_NUMBER_LITERAL = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_STRING_LITERAL = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""", re.DOTALL)
_PLAIN_QUOTES = (
    "write text in plain quotes, like 'text' (no prefixes, triple quotes or strings side by side)"
)
_PYTHON_WORDS: Mapping[str, str] = types.MappingProxyType(
    {"True": "true", "False": "false", "None": "null"}
)
_LITERAL_WORDS: Mapping[str, Any] = types.MappingProxyType(
    {"true": True, "false": False, "null": None}
)


class ValueType(enum.Enum):
    """The static type of a field or of an expression's result."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    BOOLEAN = "boolean"
    LIST = "list"
    NULL = "null"
    ANY = "any"


class ExpressionError(Exception):
    """A problem with an expression, located by a character offset in its source."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset

    def __repr__(self) -> str:
        return f"ExpressionError({self.message!r}, offset={self.offset})"


# ---------------------------------------------------------------------------
# Functions


@dataclass(frozen=True)
class CallContext:
    """What a function may know besides its argument values."""

    today: datetime.date
    amounts: Mapping[str, Mapping[str, int]]
    # The field name of each argument written as a bare name, else None;
    # amount_of() needs to know *which* choice field it was given.
    argument_names: tuple[str | None, ...]


@dataclass(frozen=True)
class Param:
    """One parameter: the value types it accepts and how to name them in messages."""

    types: frozenset[ValueType]
    description: str


@dataclass(frozen=True)
class Function:
    """An entry of `FUNCTIONS`.

    The implementation receives the evaluated arguments already checked
    against `params` (null always passes through, so every implementation
    decides what null means for it).
    """

    name: str
    params: tuple[Param, ...]
    result: ValueType
    implementation: Callable[[CallContext, Sequence[Any]], Any]
    # The argument must be written as the bare name of a choice field.
    choice_field_argument: bool = False

    @property
    def arity(self) -> int:
        return len(self.params)


def _len(context: CallContext, args: Sequence[Any]) -> int:
    value = args[0]
    # A hidden repeating page or text field has no items and no characters.
    return 0 if value is None else len(value)


def _today(context: CallContext, args: Sequence[Any]) -> datetime.date:
    return context.today


def _age(context: CallContext, args: Sequence[Any]) -> int | None:
    born = args[0]
    if born is None:
        return None
    today = context.today
    # Comparing (month, day) tuples makes a 29 February birthday count on
    # 1 March in common years, which is how Japanese law computes age.
    before_birthday = (today.month, today.day) < (born.month, born.day)
    return int(today.year - born.year - before_birthday)


def _days_until(context: CallContext, args: Sequence[Any]) -> int | None:
    day = args[0]
    if day is None:
        return None
    return int((day - context.today).days)


def _amount_of(context: CallContext, args: Sequence[Any]) -> int | None:
    name = context.argument_names[0]
    if name is None:
        raise ExpressionError("amount_of() needs a choice field")
    value = args[0]
    # Only strings can be choice values; anything else cannot be in the table.
    if not isinstance(value, str):
        return None
    return context.amounts.get(name, {}).get(value)


_DATE_PARAM = Param(frozenset({ValueType.DATE}), "a date")

FUNCTIONS: Mapping[str, Function] = types.MappingProxyType(
    {
        function.name: function
        for function in (
            Function(
                "len",
                (Param(frozenset({ValueType.STRING, ValueType.LIST}), "text or a list"),),
                ValueType.INTEGER,
                _len,
            ),
            Function("today", (), ValueType.DATE, _today),
            Function("age", (_DATE_PARAM,), ValueType.INTEGER, _age),
            Function("days_until", (_DATE_PARAM,), ValueType.INTEGER, _days_until),
            Function(
                "amount_of",
                (Param(frozenset(ValueType), "a choice field"),),
                ValueType.INTEGER,
                _amount_of,
                choice_field_argument=True,
            ),
        )
    }
)


# ---------------------------------------------------------------------------
# The tree


@dataclass(frozen=True)
class _Node:
    start: int
    end: int


@dataclass(frozen=True)
class _Literal(_Node):
    value: Any


@dataclass(frozen=True)
class _Name(_Node):
    name: str


@dataclass(frozen=True)
class _List(_Node):
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Not(_Node):
    operand: _Node


@dataclass(frozen=True)
class _Negate(_Node):
    operand: _Node


@dataclass(frozen=True)
class _Logic(_Node):
    op: str  # "and" | "or"
    operands: tuple[_Node, ...]


@dataclass(frozen=True)
class _Compare(_Node):
    first: _Node
    rest: tuple[tuple[str, _Node], ...]  # (operator, operand), for chains


@dataclass(frozen=True)
class _Arith(_Node):
    op: str  # "+" | "-" | "*" | "//"
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Call(_Node):
    function: str
    args: tuple[_Node, ...]


def _walk(node: _Node) -> Iterator[_Node]:
    yield node
    children: tuple[_Node, ...] = ()
    if isinstance(node, _List):
        children = node.items
    elif isinstance(node, _Not | _Negate):
        children = (node.operand,)
    elif isinstance(node, _Logic):
        children = node.operands
    elif isinstance(node, _Compare):
        children = (node.first, *(operand for _, operand in node.rest))
    elif isinstance(node, _Arith):
        children = (node.left, node.right)
    elif isinstance(node, _Call):
        children = node.args
    for child in children:
        yield from _walk(child)


# ---------------------------------------------------------------------------
# Parsing


_COMPARE_OPS: Mapping[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_ARITH_OPS: Mapping[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.FloorDiv: "//",
}
_FORBIDDEN_OPS: Mapping[type[ast.operator], tuple[str, str]] = {
    ast.Div: ("/", " (use '//' for whole-number division)"),
    ast.Pow: ("**", " (multiply instead)"),
    ast.Mod: ("%", ""),
    ast.MatMult: ("@", ""),
    ast.LShift: ("<<", ""),
    ast.RShift: (">>", ""),
    ast.BitOr: ("|", " (use 'or')"),
    ast.BitAnd: ("&", " (use 'and')"),
    ast.BitXor: ("^", ""),
}
_FORBIDDEN_NODES: Mapping[type[ast.AST], str] = {
    ast.Attribute: "attribute access ('.') is not allowed in expressions",
    ast.Subscript: "indexing ('[...]') is not allowed in expressions",
    ast.Lambda: "'lambda' is not allowed in expressions",
    ast.ListComp: "comprehensions are not allowed in expressions",
    ast.SetComp: "comprehensions are not allowed in expressions",
    ast.DictComp: "comprehensions are not allowed in expressions",
    ast.GeneratorExp: "comprehensions are not allowed in expressions",
    ast.JoinedStr: "f-strings are not allowed in expressions",
    ast.FormattedValue: "f-strings are not allowed in expressions",
    ast.IfExp: "'if ... else' is not allowed in expressions",
    ast.NamedExpr: "':=' is not allowed in expressions",
    ast.Tuple: "tuples are not allowed in expressions (write a list as [a, b])",
    ast.Dict: "'{...}' is not allowed in expressions",
    ast.Set: "'{...}' is not allowed in expressions",
    ast.Starred: "'*' is not allowed in expressions",
    ast.Await: "'await' is not allowed in expressions",
    ast.Yield: "'yield' is not allowed in expressions",
    ast.YieldFrom: "'yield' is not allowed in expressions",
    ast.Slice: "indexing ('[...]') is not allowed in expressions",
}


def _did_you_mean(word: str, candidates: Sequence[str]) -> str:
    matches = difflib.get_close_matches(word, sorted(candidates), n=1)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def _plural(count: int, noun: str) -> str:
    if count == 0:
        return f"no {noun}s"
    return f"{count} {noun}" + ("" if count == 1 else "s")


class _Converter:
    """Translates a Python syntax tree into the whitelisted tree, with character offsets."""

    def __init__(self, text: str, shift: int) -> None:
        self.text = text
        self.shift = shift
        # ast reports columns in UTF-8 bytes; messages and editors count characters.
        self.byte_to_char: list[int] = []
        for index, char in enumerate(text):
            self.byte_to_char.extend([index] * len(char.encode("utf-8")))
        self.byte_to_char.append(len(text))

    def _char(self, byte_offset: int | None, default: int) -> int:
        if byte_offset is None or not 0 <= byte_offset < len(self.byte_to_char):
            return default
        return self.byte_to_char[byte_offset]

    def span(self, node: ast.expr | ast.keyword) -> tuple[int, int]:
        start = self._char(node.col_offset, 0)
        end = self._char(node.end_col_offset, len(self.text))
        return start + self.shift, end + self.shift

    def segment(self, start: int, end: int) -> str:
        return self.text[start - self.shift : end - self.shift]

    def operator_offset(self, left: _Node, right: _Node, op: str, fallback: int) -> int:
        # Only whitespace and parentheses separate the operands from the
        # operator, so the first occurrence in between is the operator itself.
        found = self.text.find(op, left.end - self.shift, right.start - self.shift)
        return fallback if found < 0 else found + self.shift

    def convert(self, node: ast.expr, depth: int) -> _Node:
        start, end = self.span(node)
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"expression is nested too deeply (more than {MAX_DEPTH} levels)", start
            )
        depth += 1
        if isinstance(node, ast.Constant):
            return self.constant(node, start, end)
        if isinstance(node, ast.Name):
            if node.id in _LITERAL_WORDS:
                return _Literal(start, end, _LITERAL_WORDS[node.id])
            return _Name(start, end, node.id)
        if isinstance(node, ast.List):
            return _List(start, end, tuple(self.convert(item, depth) for item in node.elts))
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, start, end, depth)
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            operands = tuple(self.convert(value, depth) for value in node.values)
            return _Logic(start, end, op, operands)
        if isinstance(node, ast.Compare):
            return self.compare(node, start, end, depth)
        if isinstance(node, ast.BinOp):
            return self.binary(node, start, end, depth)
        if isinstance(node, ast.Call):
            return self.call(node, start, end, depth)
        message = _FORBIDDEN_NODES.get(
            type(node), f"'{self.segment(start, end)}' is not allowed in expressions"
        )
        raise ExpressionError(message, start)

    def constant(self, node: ast.Constant, start: int, end: int) -> _Node:
        written = self.segment(start, end)
        value = node.value
        if value is True or value is False or value is None:
            # Python spellings are not part of the language; as a name, `check`
            # reports them with a suggestion of `true`, `false` or `null`.
            return _Name(start, end, written)
        if isinstance(value, str):
            if not _STRING_LITERAL.fullmatch(written):
                raise ExpressionError(_PLAIN_QUOTES, start)
            return _Literal(start, end, value)
        if isinstance(value, int | float):
            if not _NUMBER_LITERAL.fullmatch(written):
                raise ExpressionError(
                    f"'{written}' is not a valid number (write digits, like 12 or 1.5)", start
                )
            number = value if isinstance(value, int) else decimal.Decimal(written)
            if not -MAX_NUMBER <= number <= MAX_NUMBER:
                raise ExpressionError("number too large", start)
            return _Literal(start, end, number)
        if value is Ellipsis:
            raise ExpressionError("'...' is not allowed in expressions", start)
        if isinstance(value, bytes):
            raise ExpressionError(_PLAIN_QUOTES, start)
        # complex numbers
        raise ExpressionError(
            f"'{written}' is not a valid number (write digits, like 12 or 1.5)", start
        )

    def unary(self, node: ast.UnaryOp, start: int, end: int, depth: int) -> _Node:
        if isinstance(node.op, ast.Not):
            return _Not(start, end, self.convert(node.operand, depth))
        if isinstance(node.op, ast.USub):
            return _Negate(start, end, self.convert(node.operand, depth))
        symbol = "+" if isinstance(node.op, ast.UAdd) else "~"
        raise ExpressionError(f"unary '{symbol}' is not allowed in expressions", start)

    def compare(self, node: ast.Compare, start: int, end: int, depth: int) -> _Node:
        first = self.convert(node.left, depth)
        rest: list[tuple[str, _Node]] = []
        left = first
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.convert(comparator, depth)
            symbol = _COMPARE_OPS.get(type(op))
            if symbol is None:
                offset = self.operator_offset(left, right, "is", start)
                raise ExpressionError("'is' is not allowed in expressions (use '==')", offset)
            rest.append((symbol, right))
            left = right
        return _Compare(start, end, first, tuple(rest))

    def binary(self, node: ast.BinOp, start: int, end: int, depth: int) -> _Node:
        left = self.convert(node.left, depth)
        right = self.convert(node.right, depth)
        symbol = _ARITH_OPS.get(type(node.op))
        if symbol is not None:
            return _Arith(start, end, symbol, left, right)
        forbidden, hint = _FORBIDDEN_OPS.get(type(node.op), ("?", ""))
        offset = self.operator_offset(left, right, forbidden, start)
        raise ExpressionError(f"'{forbidden}' is not allowed in expressions{hint}", offset)

    def call(self, node: ast.Call, start: int, end: int, depth: int) -> _Node:
        if not isinstance(node.func, ast.Name):
            listing = ", ".join(f"{name}()" for name in FUNCTIONS)
            raise ExpressionError(f"only these functions can be called: {listing}", start)
        name = node.func.id
        function = FUNCTIONS.get(name)
        if function is None:
            raise ExpressionError(
                f"unknown function '{name}'{_did_you_mean(name, list(FUNCTIONS))}", start
            )
        for keyword in node.keywords:
            keyword_start, _ = self.span(keyword)
            if keyword.arg is None:
                raise ExpressionError(
                    "'**' arguments are not allowed in expressions", keyword_start
                )
            raise ExpressionError(f"{name}() takes no keyword arguments", keyword_start)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise ExpressionError(
                    "'*' arguments are not allowed in expressions", self.span(arg)[0]
                )
        if len(node.args) != function.arity:
            raise ExpressionError(f"{name}() takes {_plural(function.arity, 'argument')}", start)
        return _Call(start, end, name, tuple(self.convert(arg, depth) for arg in node.args))


def _check_quoting(source: str) -> None:
    """Refuse comments and quoted text broken over lines.

    Python's parser silently drops comments, which would make `a # b` mean
    `a`, and `parse` turns line breaks into spaces, which would change the
    text inside quotes. Only reliable once every string is known to be a
    plain quoted literal, so this runs after the tree has been translated.
    """
    quote = ""
    opened = 0
    escaped = False
    for index, char in enumerate(source):
        if quote:
            if char in "\r\n":
                raise ExpressionError("text in quotes cannot continue on the next line", opened)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote, opened = char, index
        elif char == "#":
            raise ExpressionError("comments ('#') are not allowed in expressions", index)


def parse(source: str) -> Expression:
    """Parse an expression; raises `ExpressionError` for anything outside the language."""
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(
            f"expression too long (more than {MAX_SOURCE_LENGTH} characters)", MAX_SOURCE_LENGTH
        )
    if not source.strip():
        raise ExpressionError("empty expression", 0)
    # Python reports these without a position (or, for surrogates, not as a
    # syntax error at all).
    for index, char in enumerate(source):
        if char == "\0" or "\ud800" <= char <= "\udfff":
            raise ExpressionError(f"syntax error: invalid character {char!r}", index)
    # YAML block scalars keep line breaks, but in eval mode Python only allows
    # them inside brackets; as spaces they keep every offset where it was.
    flat = source.replace("\r", " ").replace("\n", " ")
    text = flat.lstrip()  # leading spaces would be an "unexpected indent"
    shift = len(flat) - len(text)
    try:
        # Escape-sequence warnings are turned into syntax errors rather than
        # leaking out (and failing whole test runs that treat warnings as
        # errors). catch_warnings is process-wide, but expressions are parsed
        # when procedures load, not on every request.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise _syntax_error(error, text, shift, len(source)) from None
    except RecursionError:
        raise ExpressionError(
            f"expression is nested too deeply (more than {MAX_DEPTH} levels)", 0
        ) from None
    except (ValueError, MemoryError, Warning) as error:  # never seen; kept as a safety net
        raise ExpressionError(f"syntax error: {error}", 0) from None
    root = _Converter(text, shift).convert(tree.body, 1)
    _check_quoting(source)
    nodes = list(_walk(root))
    return Expression(
        source=source,
        names=frozenset(node.name for node in nodes if isinstance(node, _Name)),
        functions=frozenset(node.function for node in nodes if isinstance(node, _Call)),
        _root=root,
    )


def _syntax_error(error: SyntaxError, text: str, shift: int, length: int) -> ExpressionError:
    message = error.msg or "invalid syntax"
    # Python's offset is 1-based in characters; 0 or missing means "at the end".
    offset = error.offset - 1 + shift if error.offset else length
    # A lone '=' is the likeliest slip of someone who does not program.
    at = offset - shift
    if (
        0 <= at < len(text)
        and text[at] == "="
        and (at == 0 or text[at - 1] not in "=<>!")
        and text[at + 1 : at + 2] != "="
    ):
        message = "invalid syntax (use '==' to compare)"
    return ExpressionError(f"syntax error: {message}", max(0, min(offset, length)))


# ---------------------------------------------------------------------------
# Static checking

_NUMBER_TYPES = frozenset({ValueType.INTEGER, ValueType.DECIMAL})
_OPEN_TYPES = frozenset({ValueType.ANY, ValueType.NULL})
_DESCRIPTIONS: Mapping[ValueType, str] = {
    ValueType.STRING: "text",
    ValueType.INTEGER: "a number",
    ValueType.DECIMAL: "a number",
    ValueType.DATE: "a date",
    ValueType.BOOLEAN: "true/false",
    ValueType.LIST: "a list",
    ValueType.NULL: "null",
    ValueType.ANY: "a value",
}
_VERBS: Mapping[str, str] = {"+": "add", "-": "subtract", "*": "multiply", "//": "divide"}


def _family(value_type: ValueType) -> str | None:
    """What can sensibly be compared with what; None means "could be anything"."""
    if value_type in _OPEN_TYPES:
        return None
    if value_type in _NUMBER_TYPES:
        return "number"
    return value_type.value


# Equality between these is always false, so writing it is a mistake.
_UNEQUAL_FAMILIES = frozenset(
    {
        frozenset({"string", "number"}),
        frozenset({"string", "date"}),
        frozenset({"date", "number"}),
    }
)


class _Checker:
    def __init__(
        self, source: str, scope: Mapping[str, ValueType], choice_fields: frozenset[str]
    ) -> None:
        self.source = source
        self.scope = scope
        self.choice_fields = choice_fields
        self.errors: list[ExpressionError] = []

    def snippet(self, node: _Node) -> str:
        text = " ".join(self.source[node.start : node.end].split())
        return text if len(text) <= 40 else text[:37] + "..."

    def fail(self, message: str, node: _Node) -> None:
        self.errors.append(ExpressionError(message, node.start))

    def infer(self, node: _Node) -> ValueType:
        if isinstance(node, _Literal):
            return _literal_type(node.value)
        if isinstance(node, _Name):
            return self.name(node)
        if isinstance(node, _List):
            for item in node.items:
                self.infer(item)
            return ValueType.LIST
        if isinstance(node, _Not):
            self.infer(node.operand)
            return ValueType.BOOLEAN
        if isinstance(node, _Negate):
            operand = self.infer(node.operand)
            if _family(operand) not in (None, "number"):
                self.fail(f"cannot negate {_DESCRIPTIONS[operand]} ({self.snippet(node)})", node)
                return ValueType.ANY
            return operand
        if isinstance(node, _Logic):
            for operand_node in node.operands:
                self.infer(operand_node)
            return ValueType.BOOLEAN
        if isinstance(node, _Compare):
            self.compare(node)
            return ValueType.BOOLEAN
        if isinstance(node, _Arith):
            return self.arith(node)
        assert isinstance(node, _Call)
        return self.call(node)

    def name(self, node: _Name) -> ValueType:
        found = self.scope.get(node.name)
        if found is not None:
            return found
        if node.name in FUNCTIONS:
            hint = f" (did you mean '{node.name}()'?)"
        elif node.name in _PYTHON_WORDS:
            hint = f" (did you mean '{_PYTHON_WORDS[node.name]}'?)"
        else:
            # Hyphenated ids cannot be written, so suggesting one would not help.
            writable = [name for name in self.scope if _IDENTIFIER.fullmatch(name)]
            hint = _did_you_mean(node.name, [*writable, *_LITERAL_WORDS])
        self.fail(f"unknown name '{node.name}'{hint}", node)
        return ValueType.ANY

    def compare(self, node: _Compare) -> None:
        left_node = node.first
        left = self.infer(left_node)
        for op, right_node in node.rest:
            right = self.infer(right_node)
            pair = _Node(left_node.start, right_node.end)
            self.compare_pair(op, left, right, left_node, right_node, self.snippet(pair))
            left_node, left = right_node, right

    def compare_pair(
        self,
        op: str,
        left: ValueType,
        right: ValueType,
        left_node: _Node,
        right_node: _Node,
        snippet: str,
    ) -> None:
        left_family, right_family = _family(left), _family(right)
        if op in ("in", "not in"):
            if right_family not in (None, "list", "string"):
                self.fail(
                    f"'{op}' needs a list or text on its right, not {_DESCRIPTIONS[right]} "
                    f"({snippet})",
                    right_node,
                )
            elif right_family == "string" and left_family not in (None, "string"):
                self.fail(f"cannot look for {_DESCRIPTIONS[left]} in text ({snippet})", left_node)
            return
        if left_family is None or right_family is None:
            return
        if op in ("==", "!="):
            if frozenset({left_family, right_family}) in _UNEQUAL_FAMILIES:
                self.fail(
                    f"cannot compare {_DESCRIPTIONS[left]} with {_DESCRIPTIONS[right]} ({snippet})",
                    left_node,
                )
            return
        for family, value_type, side in (
            (left_family, left, left_node),
            (right_family, right, right_node),
        ):
            if family in ("boolean", "list"):
                self.fail(f"cannot use '{op}' with {_DESCRIPTIONS[value_type]} ({snippet})", side)
                return
        if left_family != right_family:
            self.fail(
                f"cannot compare {_DESCRIPTIONS[left]} with {_DESCRIPTIONS[right]} ({snippet})",
                left_node,
            )

    def arith(self, node: _Arith) -> ValueType:
        if node.op == "-":
            written = self.source[node.start : node.end]
            names = {child.name for child in _walk(node) if isinstance(child, _Name)}
            if (
                written in self.scope
                and _FIELD_ID.fullmatch(written)
                and not names <= set(self.scope)
            ):
                self.fail(
                    f"'{written}' cannot be used in expressions because of its '-' "
                    "(use '_' in the field id instead)",
                    node,
                )
                return ValueType.ANY
        left = self.infer(node.left)
        right = self.infer(node.right)
        if ValueType.NULL in (left, right):
            return ValueType.NULL
        left_family, right_family = _family(left), _family(right)
        if node.op == "+" and {left_family, right_family} <= {None, "string"}:
            return ValueType.STRING if left is right is ValueType.STRING else ValueType.ANY
        if {left_family, right_family} <= {None, "number"}:
            if ValueType.ANY in (left, right):
                return ValueType.ANY
            return ValueType.INTEGER if left is right is ValueType.INTEGER else ValueType.DECIMAL
        self.fail(
            f"cannot {_VERBS[node.op]} {_DESCRIPTIONS[left]} and {_DESCRIPTIONS[right]} "
            f"({self.snippet(node)})",
            node,
        )
        return ValueType.ANY

    def call(self, node: _Call) -> ValueType:
        function = FUNCTIONS[node.function]
        for param, arg in zip(function.params, node.args, strict=True):
            arg_type = self.infer(arg)
            if function.choice_field_argument:
                if isinstance(arg, _Name) and arg.name not in self.scope:
                    continue  # already reported as an unknown name
                if not (isinstance(arg, _Name) and arg.name in self.choice_fields):
                    self.fail(
                        f"{function.name}() needs a choice field, '{self.snippet(arg)}' is not one",
                        arg,
                    )
            elif arg_type not in param.types and arg_type not in _OPEN_TYPES:
                self.fail(
                    f"{function.name}() needs {param.description}, not "
                    f"{_DESCRIPTIONS[arg_type]} ({self.snippet(node)})",
                    arg,
                )
        return function.result


def _literal_type(value: Any) -> ValueType:
    if value is None:
        return ValueType.NULL
    if isinstance(value, bool):
        return ValueType.BOOLEAN
    if isinstance(value, int):
        return ValueType.INTEGER
    if isinstance(value, decimal.Decimal):
        return ValueType.DECIMAL
    return ValueType.STRING


# ---------------------------------------------------------------------------
# Evaluation


def _runtime_type(value: Any) -> ValueType | None:
    """The language type of a Python value, or None for values it has no use for."""
    if value is None:
        return ValueType.NULL
    if isinstance(value, bool):
        return ValueType.BOOLEAN
    if isinstance(value, int):
        return ValueType.INTEGER
    if isinstance(value, decimal.Decimal):
        return ValueType.DECIMAL
    if isinstance(value, str):
        return ValueType.STRING
    if isinstance(value, datetime.date):
        return ValueType.DATE
    if isinstance(value, list | tuple):
        return ValueType.LIST
    return None


def _describe(value: Any) -> str:
    value_type = _runtime_type(value)
    if value_type is None:
        return f"an unsupported value ({type(value).__name__})"
    return _DESCRIPTIONS[value_type]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | decimal.Decimal) and not isinstance(value, bool)


def _normalize(value: Any) -> Any:
    # A datetime does not order against a date, so it counts as its day; a
    # float joins the exact decimals as the number it prints as (1.1, not
    # 1.100000000000000088...).
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, float):
        return decimal.Decimal(repr(value))
    return value


def _truth(value: Any) -> bool:
    if value is None:
        return False
    return bool(value)


class _Evaluator:
    def __init__(
        self,
        values: Mapping[str, Any],
        today: datetime.date,
        amounts: Mapping[str, Mapping[str, int]],
    ) -> None:
        self.values = values
        self.today = today
        self.amounts = amounts

    def number(self, value: Any, node: _Node) -> Any:
        """Refuse numbers that are out of bounds before and after arithmetic."""
        if isinstance(value, decimal.Decimal):
            if value.is_nan():
                raise ExpressionError("not a number", node.start)
            if value.is_infinite() or abs(value) > MAX_NUMBER:
                raise ExpressionError("number too large", node.start)
        elif abs(value) > MAX_NUMBER:
            raise ExpressionError("number too large", node.start)
        return value

    def evaluate(self, node: _Node) -> Any:
        if isinstance(node, _Literal):
            return node.value
        if isinstance(node, _Name):
            return _normalize(self.values.get(node.name))
        if isinstance(node, _List):
            return [self.evaluate(item) for item in node.items]
        if isinstance(node, _Not):
            return not _truth(self.evaluate(node.operand))
        if isinstance(node, _Negate):
            operand = self.evaluate(node.operand)
            if operand is None:
                return None
            if not _is_number(operand):
                raise ExpressionError(f"cannot negate {_describe(operand)}", node.start)
            return self.number(-self.number(operand, node), node)
        if isinstance(node, _Logic):
            return self.logic(node)
        if isinstance(node, _Compare):
            return self.compare(node)
        if isinstance(node, _Arith):
            return self.arith(node)
        assert isinstance(node, _Call)
        return self.call(node)

    def logic(self, node: _Logic) -> bool:
        stop_on = node.op == "or"  # `or` stops at the first true operand, `and` at a false one
        for operand in node.operands:
            if _truth(self.evaluate(operand)) is stop_on:
                return stop_on
        return not stop_on

    def compare(self, node: _Compare) -> bool:
        left = self.evaluate(node.first)
        left_node = node.first
        for op, right_node in node.rest:
            right = self.evaluate(right_node)
            if not self.compare_pair(op, left, right, left_node, right_node):
                return False
            left, left_node = right, right_node
        return True

    def compare_pair(
        self, op: str, left: Any, right: Any, left_node: _Node, right_node: _Node
    ) -> bool:
        if op == "==":
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op in ("in", "not in"):
            return self.contains(left, right, left_node, right_node) is (op == "in")
        if left is None or right is None:
            return False
        comparable = (
            (_is_number(left) and _is_number(right))
            or (isinstance(left, str) and isinstance(right, str))
            or (isinstance(left, datetime.date) and isinstance(right, datetime.date))
        )
        if not comparable:
            raise ExpressionError(
                f"cannot compare {_describe(left)} with {_describe(right)}", left_node.start
            )
        for number in (left, right):
            if isinstance(number, decimal.Decimal) and number.is_nan():
                raise ExpressionError(
                    "cannot compare with something that is not a number", left_node.start
                )
        try:
            if op == "<":
                return bool(left < right)
            if op == "<=":
                return bool(left <= right)
            if op == ">":
                return bool(left > right)
            return bool(left >= right)
        except (ArithmeticError, TypeError):  # NaN, or a datetime against a date
            raise ExpressionError(
                f"cannot compare {_describe(left)} with {_describe(right)}", left_node.start
            ) from None

    def contains(self, item: Any, container: Any, item_node: _Node, container_node: _Node) -> bool:
        if container is None:
            return False
        if isinstance(container, str):
            if item is None:
                return False
            if not isinstance(item, str):
                raise ExpressionError(f"cannot look for {_describe(item)} in text", item_node.start)
            return item in container
        if isinstance(container, list | tuple):
            return any(item is element or bool(item == element) for element in container)
        raise ExpressionError(
            f"'in' needs a list or text on its right, not {_describe(container)}",
            container_node.start,
        )

    def arith(self, node: _Arith) -> Any:
        left = self.evaluate(node.left)
        right = self.evaluate(node.right)
        if left is None or right is None:
            return None
        if node.op == "+" and isinstance(left, str) and isinstance(right, str):
            if len(left) + len(right) > MAX_TEXT_LENGTH:
                raise ExpressionError("text too long", node.start)
            return left + right
        if not (_is_number(left) and _is_number(right)):
            raise ExpressionError(
                f"cannot {_VERBS[node.op]} {_describe(left)} and {_describe(right)}", node.start
            )
        left = self.number(left, node.left)
        right = self.number(right, node.right)
        try:
            if node.op == "+":
                result = left + right
            elif node.op == "-":
                result = left - right
            elif node.op == "*":
                result = left * right
            else:
                result = self.floor_divide(left, right, node)
        except ArithmeticError:
            # Only decimal signals get here (a quotient with more digits than
            # the context holds); the operands were already in bounds.
            raise ExpressionError("number too large", node.start) from None
        return self.number(result, node)

    def floor_divide(self, left: Any, right: Any, node: _Node) -> Any:
        if right == 0:
            raise ExpressionError("division by zero", node.start)
        if isinstance(left, int) and isinstance(right, int):
            return left // right
        # Decimal's // truncates towards zero; the language floors, like for
        # integers, so that -7 // 2 is -4 whatever the operands' types.
        left, right = decimal.Decimal(left), decimal.Decimal(right)
        quotient = left // right
        if left % right != 0 and (left < 0) != (right < 0):
            quotient -= 1
        return quotient

    def call(self, node: _Call) -> Any:
        function = FUNCTIONS[node.function]
        args = [self.evaluate(arg) for arg in node.args]
        for param, value, arg in zip(function.params, args, node.args, strict=True):
            value_type = _runtime_type(value)
            if value is not None and value_type not in param.types:
                raise ExpressionError(
                    f"{function.name}() needs {param.description}, not {_describe(value)}",
                    arg.start,
                )
        context = CallContext(
            today=self.today,
            amounts=self.amounts,
            argument_names=tuple(arg.name if isinstance(arg, _Name) else None for arg in node.args),
        )
        try:
            return function.implementation(context, args)
        except ExpressionError as error:
            raise ExpressionError(error.message, node.start) from None


# ---------------------------------------------------------------------------
# The public object


@dataclass(frozen=True)
class Expression:
    """A parsed expression; build it with `parse`."""

    source: str
    names: frozenset[str]
    functions: frozenset[str]
    _root: _Node = field(repr=False, compare=False)

    def check(
        self,
        scope: Mapping[str, ValueType],
        *,
        choice_fields: frozenset[str] = frozenset(),
    ) -> list[ExpressionError]:
        """Every unknown name and plainly incompatible use of types, in source order."""
        checker = _Checker(self.source, scope, choice_fields)
        checker.infer(self._root)
        return sorted(checker.errors, key=lambda error: error.offset)

    def result_type(self, scope: Mapping[str, ValueType]) -> ValueType:
        """The type of the value produced; ANY where it cannot be known."""
        return _Checker(self.source, scope, frozenset()).infer(self._root)

    def evaluate(
        self,
        values: Mapping[str, Any],
        *,
        today: datetime.date,
        amounts: Mapping[str, Mapping[str, int]] | None = None,
    ) -> Any:
        """The value of the expression; missing names are null.

        Raises only `ExpressionError`, whatever the values.
        """
        if isinstance(today, datetime.datetime):
            today = today.date()
        evaluator = _Evaluator(values, today, amounts or {})
        try:
            with decimal.localcontext(_DECIMAL_CONTEXT):
                return evaluator.evaluate(self._root)
        except ExpressionError:
            raise
        except RecursionError:
            raise ExpressionError("a value is nested too deeply", 0) from None
        except Exception as error:
            # Values come from the public and may be anything; whatever goes
            # wrong must surface as the one error type callers handle.
            raise ExpressionError(f"cannot evaluate: {type(error).__name__}", 0) from None

    def truthy(
        self,
        values: Mapping[str, Any],
        *,
        today: datetime.date,
        amounts: Mapping[str, Mapping[str, int]] | None = None,
    ) -> bool:
        """Whether the expression holds; null counts as false."""
        result = self.evaluate(values, today=today, amounts=amounts)
        try:
            return _truth(result)
        except Exception as error:
            raise ExpressionError(f"cannot evaluate: {type(error).__name__}", 0) from None
