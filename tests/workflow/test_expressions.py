"""Tests of the expression language: parsing, static checks, evaluation, limits.

The Hypothesis tests at the end hold the safety promises: `parse` and
`evaluate` raise nothing but `ExpressionError`, whatever the text or values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflow.expressions import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_NUMBER,
    MAX_SOURCE_LENGTH,
    MAX_TEXT_LENGTH,
    Expression,
    ExpressionError,
    ValueType,
    parse,
)

# A common year, so that 29 February birthdays are exercised.
TODAY = dt.date(2026, 3, 1)
AMOUNTS = {"kind": {"large": 1200, "small": 400}}

SCOPE: dict[str, ValueType] = {
    "copies": ValueType.INTEGER,
    "price": ValueType.DECIMAL,
    "purpose": ValueType.STRING,
    "kind": ValueType.STRING,
    "born": ValueType.DATE,
    "agree": ValueType.BOOLEAN,
    "tags": ValueType.LIST,
    "anything": ValueType.ANY,
    "hidden": ValueType.NULL,
    "first-name": ValueType.STRING,
}
CHOICES = frozenset({"kind"})

# Hypothesis explores widely but must keep the file fast, and must not leave
# a .hypothesis folder in the project.
FAST = settings(max_examples=300, deadline=None, database=None)


def run(source: str, **values: Any) -> Any:
    return parse(source).evaluate(values, today=TODAY, amounts=AMOUNTS)


def parse_error(source: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse(source)
    return info.value


def eval_error(source: str, **values: Any) -> ExpressionError:
    expression = parse(source)
    with pytest.raises(ExpressionError) as info:
        expression.evaluate(values, today=TODAY, amounts=AMOUNTS)
    return info.value


def check(source: str) -> list[tuple[str, int]]:
    errors = parse(source).check(SCOPE, choice_fields=CHOICES)
    return [(error.message, error.offset) for error in errors]


# ---------------------------------------------------------------------------
# Literals


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("12", 12),
        ("0", 0),
        ("1.5", Decimal("1.5")),
        ("2.0", Decimal("2.0")),
        (".5", Decimal("0.5")),
        ("3.", Decimal("3")),
        ("'text'", "text"),
        ('"text"', "text"),
        ("'it\\'s'", "it's"),
        ("'年度'", "年度"),
        ("''", ""),
        ("true", True),
        ("false", False),
        ("null", None),
        ("['a', 'b']", ["a", "b"]),
        ("[]", []),
        ("[1, [2, null]]", [1, [2, None]]),
    ],
)
def test_literals(source: str, expected: Any) -> None:
    result = run(source)
    assert result == expected
    assert type(result) is type(expected)


def test_decimal_literals_are_exact() -> None:
    assert run("0.1 + 0.2") == Decimal("0.3")


# ---------------------------------------------------------------------------
# Operators


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2", 3),
        ("5 - 7", -2),
        ("6 * 7", 42),
        ("7 // 2", 3),
        ("-7 // 2", -4),
        ("7 // -2", -4),
        ("-7.0 // 2", Decimal("-4")),
        ("7 // -2.0", Decimal("-4")),
        ("7.5 // 2", Decimal("3")),
        ("6 // 1.5", Decimal("4")),
        ("1 + 1.5", Decimal("2.5")),
        ("2 * 1.5", Decimal("3.0")),
        ("-3", -3),
        ("--3", 3),
        ("-1.5", Decimal("-1.5")),
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("'a' + 'b'", "ab"),
        ("1 == 1", True),
        ("1 == 1.0", True),
        ("1 != 2", True),
        ("'1' == 1", False),
        ("null == null", True),
        ("1 < 2", True),
        ("2 <= 2", True),
        ("3 > 2", True),
        ("2 >= 3", False),
        ("'abc' < 'abd'", True),
        ("1 < 2 < 3", True),
        ("1 < 3 < 2", False),
        ("3 > 2 == 2", True),
        ("'a' in ['a', 'b']", True),
        ("'c' in ['a', 'b']", False),
        ("'c' not in ['a', 'b']", True),
        ("'bc' in 'abcd'", True),
        ("'x' not in 'abcd'", True),
        ("null in [null]", True),
        ("true and 1", True),
        ("true and 0", False),
        ("0 or ''", False),
        ("0 or 'x'", True),
        ("not 0", True),
        ("not 'x'", False),
        ("not not []", False),
        ("true or false and false", True),
        ("not 1 == 2", True),
    ],
)
def test_operators(source: str, expected: Any) -> None:
    result = run(source)
    assert result == expected
    assert type(result) is type(expected)


def test_and_or_short_circuit() -> None:
    assert run("false and 1 // 0 == 1") is False
    assert run("true or 1 // 0 == 1") is True


def test_chained_comparison_stops_at_first_false() -> None:
    assert run("2 < 1 < 'x'") is False


def test_dates_compare_and_datetimes_count_as_dates() -> None:
    values = {"a": dt.date(2026, 1, 1), "b": dt.datetime(2026, 1, 1, 23, 59)}
    expression = parse("a == b and a <= today()")
    assert expression.evaluate(values, today=TODAY) is True


def test_floats_from_values_are_treated_as_decimals() -> None:
    assert run("x + 1", x=1.1) == Decimal("2.1")


# ---------------------------------------------------------------------------
# Functions


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("len(x)", {"x": ["a", "b", "c"]}, 3),
        ("len(x)", {"x": ({"n": 1},)}, 1),
        ("len(x)", {"x": "住民票"}, 3),
        ("len(x)", {"x": None}, 0),
        ("len(x)", {}, 0),
        ("len([1, 2])", {}, 2),
        ("today()", {}, TODAY),
        ("age(d)", {"d": dt.date(2000, 3, 1)}, 26),  # birthday today
        ("age(d)", {"d": dt.date(2000, 3, 2)}, 25),  # birthday tomorrow
        ("age(d)", {"d": dt.date(2000, 2, 28)}, 26),
        ("age(d)", {"d": dt.datetime(2000, 3, 2, 8, 0)}, 25),
        ("age(d)", {"d": None}, None),
        ("age(d)", {}, None),
        ("days_until(d)", {"d": dt.date(2026, 3, 11)}, 10),
        ("days_until(d)", {"d": dt.date(2026, 2, 19)}, -10),
        ("days_until(d)", {"d": TODAY}, 0),
        ("days_until(d)", {"d": dt.datetime(2026, 3, 2, 0, 1)}, 1),
        ("days_until(d)", {}, None),
        ("days_until(today())", {}, 0),
        ("amount_of(kind)", {"kind": "large"}, 1200),
        ("amount_of(kind) * n", {"kind": "small", "n": 3}, 1200),
        ("amount_of(kind)", {"kind": None}, None),
        ("amount_of(kind)", {}, None),
        ("amount_of(kind)", {"kind": "unknown"}, None),
        ("amount_of(kind)", {"kind": ["large"]}, None),
        ("amount_of(other)", {"other": "large"}, None),
    ],
)
def test_functions(source: str, values: dict[str, Any], expected: Any) -> None:
    assert parse(source).evaluate(values, today=TODAY, amounts=AMOUNTS) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 2, 28), 25),  # common year: not yet on 28 February
        (dt.date(2026, 3, 1), 26),  # ...counted on 1 March
        (dt.date(2028, 2, 28), 27),  # leap year: not yet on the 28th
        (dt.date(2028, 2, 29), 28),  # ...counted on the 29th itself
    ],
)
def test_age_of_a_29_february_birthday(today: dt.date, expected: int) -> None:
    born = dt.date(2000, 2, 29)
    assert parse("age(born)").evaluate({"born": born}, today=today) == expected


def test_today_may_be_passed_as_a_datetime() -> None:
    assert parse("today()").evaluate({}, today=dt.datetime(2026, 3, 1, 9, 30)) == TODAY


def test_amount_of_without_amounts_is_null() -> None:
    assert parse("amount_of(kind)").evaluate({"kind": "large"}, today=TODAY) is None


def test_functions_registry() -> None:
    assert set(FUNCTIONS) == {"len", "today", "age", "days_until", "amount_of"}
    for name, function in FUNCTIONS.items():
        assert function.name == name
    assert {name: f.arity for name, f in FUNCTIONS.items()} == {
        "len": 1,
        "today": 0,
        "age": 1,
        "days_until": 1,
        "amount_of": 1,
    }
    assert FUNCTIONS["today"].result is ValueType.DATE


# ---------------------------------------------------------------------------
# Null


@pytest.mark.parametrize(
    "source",
    ["x < 1", "x <= 1", "x > 1", "x >= 1", "1 < x", "x < x", "'a' < x", "x in ['a']", "1 in x"],
)
def test_null_is_false_in_ordering_and_membership(source: str) -> None:
    assert run(source) is False


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x == null", True),
        ("x != null", False),
        ("x == 1", False),
        ("x != 1", True),
        ("1 not in x", True),
        ("x + 1", None),
        ("1 - x", None),
        ("x * 2", None),
        ("x // 2", None),
        ("2 // x", None),
        ("x + 'a'", None),
        ("-x", None),
        ("not x", True),
        ("x and true", False),
        ("x or true", True),
        ("x", None),
    ],
)
def test_null_semantics(source: str, expected: Any) -> None:
    assert run(source, x=None) == expected
    assert run(source) == expected  # a missing name is null too


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("x", {"x": None}, False),
        ("x", {}, False),
        ("x", {"x": 0}, False),
        ("x", {"x": ""}, False),
        ("x", {"x": []}, False),
        ("x", {"x": "a"}, True),
        ("x", {"x": ["a"]}, True),
        ("x > 1", {"x": 2}, True),
        ("x > 1", {}, False),
    ],
)
def test_truthy(source: str, values: dict[str, Any], expected: bool) -> None:
    assert parse(source).truthy(values, today=TODAY) is expected


# ---------------------------------------------------------------------------
# Run-time errors


@pytest.mark.parametrize(
    ("source", "values", "message", "offset"),
    [
        ("1 + n // 0", {"n": 1}, "division by zero", 4),
        ("n // 0.0", {"n": Decimal(1)}, "division by zero", 0),
        ("n < 'a'", {"n": 1}, "cannot compare a number with text", 0),
        ("d > 1", {"d": dt.date(2026, 1, 1)}, "cannot compare a date with a number", 0),
        ("b < 1", {"b": True}, "cannot compare true/false with a number", 0),
        ("s + n", {"s": "a", "n": 1}, "cannot add text and a number", 0),
        ("s * 2", {"s": "a"}, "cannot multiply text and a number", 0),
        ("d - d", {"d": TODAY}, "cannot subtract a date and a date", 0),
        ("b + 1", {"b": True}, "cannot add true/false and a number", 0),
        ("l + l", {"l": [1]}, "cannot add a list and a list", 0),
        ("-s", {"s": "a"}, "cannot negate text", 0),
        ("n in s", {"n": 1, "s": "abc"}, "cannot look for a number in text", 0),
        ("1 in n", {"n": 5}, "'in' needs a list or text on its right, not a number", 5),
        ("len(n)", {"n": 5}, "len() needs text or a list, not a number", 4),
        ("age(s)", {"s": "2000-01-01"}, "age() needs a date, not text", 4),
        ("days_until(n)", {"n": 3}, "days_until() needs a date, not a number", 11),
        ("x + 1", {"x": Decimal("NaN")}, "not a number", 0),
        ("x < 1", {"x": Decimal("NaN")}, "cannot compare with something that is not a number", 0),
        ("x + 1", {"x": Decimal("Infinity")}, "number too large", 0),
        ("x < 1", {"x": {"a": 1}}, "cannot compare an unsupported value (dict) with a number", 0),
        ("len(x)", {"x": b"abc"}, "len() needs text or a list, not an unsupported value", 4),
    ],
)
def test_runtime_errors(source: str, values: dict[str, Any], message: str, offset: int) -> None:
    error = eval_error(source, **values)
    assert error.message.startswith(message)
    assert error.offset == offset


def test_infinity_still_compares() -> None:
    assert run("x > 1", x=Decimal("Infinity")) is True
    assert run("x == 1", x=Decimal("NaN")) is False


def test_truthy_raises_only_expression_errors() -> None:
    with pytest.raises(ExpressionError):
        parse("1 // 0").truthy({}, today=TODAY)


def test_unexpected_failures_become_expression_errors() -> None:
    class Hostile:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("boom")

        def __bool__(self) -> bool:
            raise RuntimeError("boom")

        __hash__ = object.__hash__

    with pytest.raises(ExpressionError, match="cannot evaluate"):
        run("x == 1", x=Hostile())
    with pytest.raises(ExpressionError, match="cannot evaluate"):
        run("not x", x=Hostile())
    with pytest.raises(ExpressionError, match="cannot evaluate"):
        parse("x").truthy({"x": Hostile()}, today=TODAY)


def test_deeply_nested_values_are_an_expression_error() -> None:
    nested: list[Any] = []
    for _ in range(5000):
        nested = [nested]
    other: list[Any] = []
    for _ in range(5000):
        other = [other]
    with pytest.raises(ExpressionError):
        run("a == b", a=nested, b=other)


# ---------------------------------------------------------------------------
# Parse errors


@pytest.mark.parametrize(
    ("source", "message", "offset"),
    [
        ("a.b", "attribute access ('.') is not allowed in expressions", 0),
        ("x + a.b", "attribute access ('.') is not allowed in expressions", 4),
        ("a[0]", "indexing ('[...]') is not allowed in expressions", 0),
        ("a[1:2]", "indexing ('[...]') is not allowed in expressions", 0),
        ("lambda: 1", "'lambda' is not allowed in expressions", 0),
        ("2 ** 3", "'**' is not allowed in expressions", 2),
        ("a / b", "'/' is not allowed in expressions (use '//' for whole-number division)", 2),
        ("a % b", "'%' is not allowed in expressions", 2),
        ("a @ b", "'@' is not allowed in expressions", 2),
        ("a | b", "'|' is not allowed in expressions (use 'or')", 2),
        ("a & b", "'&' is not allowed in expressions (use 'and')", 2),
        ("a ^ b", "'^' is not allowed in expressions", 2),
        ("a << b", "'<<' is not allowed in expressions", 2),
        ("a >> b", "'>>' is not allowed in expressions", 2),
        ("(a) ** (b)", "'**' is not allowed in expressions", 4),
        ("[x for x in y]", "comprehensions are not allowed in expressions", 0),
        ("{x for x in y}", "comprehensions are not allowed in expressions", 0),
        ("{x: 1 for x in y}", "comprehensions are not allowed in expressions", 0),
        ("len(x for x in y)", "comprehensions are not allowed in expressions", 3),
        ("f'{x}'", "f-strings are not allowed in expressions", 0),
        ("a if b else c", "'if ... else' is not allowed in expressions", 0),
        ("(a := 1)", "':=' is not allowed in expressions", 1),
        ("(1, 2)", "tuples are not allowed in expressions (write a list as [a, b])", 0),
        ("1, 2", "tuples are not allowed in expressions (write a list as [a, b])", 0),
        ("{1: 2}", "'{...}' is not allowed in expressions", 0),
        ("{1}", "'{...}' is not allowed in expressions", 0),
        ("[*a]", "'*' is not allowed in expressions", 1),
        ("(yield)", "'yield' is not allowed in expressions", 1),
        ("...", "'...' is not allowed in expressions", 0),
        ("a is b", "'is' is not allowed in expressions (use '==')", 2),
        ("a is not null", "'is' is not allowed in expressions (use '==')", 2),
        ("~a", "unary '~' is not allowed in expressions", 0),
        ("+a", "unary '+' is not allowed in expressions", 0),
        ("[1](2)", "only these functions can be called:", 0),
        ("a.b()", "only these functions can be called:", 0),
        ("lenn(x)", "unknown function 'lenn' (did you mean 'len'?)", 0),
        ("1 + ages(x)", "unknown function 'ages' (did you mean 'age'?)", 4),
        ("print(x)", "unknown function 'print'", 0),
        ("len(x=1)", "len() takes no keyword arguments", 4),
        ("len(**x)", "'**' arguments are not allowed in expressions", 4),
        ("len(*x)", "'*' arguments are not allowed in expressions", 4),
        ("len()", "len() takes 1 argument", 0),
        ("len(a, b)", "len() takes 1 argument", 0),
        ("age()", "age() takes 1 argument", 0),
        ("x == today(1)", "today() takes no arguments", 5),
        ("amount_of(a, b)", "amount_of() takes 1 argument", 0),
        ("b'a'", "write text in plain quotes", 0),
        ("r'a'", "write text in plain quotes", 0),
        ("u'a'", "write text in plain quotes", 0),
        ("'''a'''", "write text in plain quotes", 0),
        ("'a' 'b'", "write text in plain quotes", 0),
        ("1e3", "'1e3' is not a valid number", 0),
        ("0x10", "'0x10' is not a valid number", 0),
        ("1_000", "'1_000' is not a valid number", 0),
        ("x + 1j", "'1j' is not a valid number", 4),
        ("a # comment", "comments ('#') are not allowed in expressions", 2),
        ("'#' + a # b", "comments ('#') are not allowed in expressions", 8),
        ("'\\d'", "syntax error: invalid escape sequence", 0),
        ("copies = 1", "syntax error: invalid syntax (use '==' to compare)", 7),
        ("copies >", "syntax error:", 8),
        ("(copies", "syntax error:", 0),
        ("'abc", "syntax error:", 0),
        ("1 2", "syntax error:", 2),
        ("a\0", "syntax error: invalid character '\\x00'", 1),
        ("a + '\ud800'", "syntax error: invalid character", 5),
        ("a == 'x\n y'", "text in quotes cannot continue on the next line", 5),
        ("", "empty expression", 0),
        ("   ", "empty expression", 0),
        ("10000000000000000000", "number too large", 0),
        ("x * 1000000000000000000.5", "number too large", 4),
    ],
)
def test_parse_errors(source: str, message: str, offset: int) -> None:
    error = parse_error(source)
    assert error.message.startswith(message), error.message
    assert error.offset == offset
    assert str(error) == error.message


@pytest.mark.parametrize(
    ("source", "offset"),
    [
        ("'年年' + a ** 2", 9),  # offsets count characters, not UTF-8 bytes
        ("'年' + a.b", 6),
        ("  a ** 2", 4),  # leading spaces keep their place
        ("a\n** 2", 2),  # a YAML block scalar keeps its line breaks
        ("a\r\n  and b ** 2", 11),
        ("'年' ** 2", 4),
    ],
)
def test_parse_error_offsets(source: str, offset: int) -> None:
    assert parse_error(source).offset == offset


def test_line_breaks_and_indentation_are_whitespace() -> None:
    expression = parse("  copies > 1\n  and purpose == 'x'\n")
    assert expression.evaluate({"copies": 2, "purpose": "x"}, today=TODAY) is True


def test_python_spellings_are_unknown_names() -> None:
    expression = parse("True or None")
    assert expression.names == {"True", "None"}
    assert check("True") == [("unknown name 'True' (did you mean 'true'?)", 0)]
    assert check("copies == None") == [("unknown name 'None' (did you mean 'null'?)", 10)]
    assert check("False") == [("unknown name 'False' (did you mean 'false'?)", 0)]
    # Python accepts any letter in a name; the language's ids never match them.
    assert check("年 + 1") == [("unknown name '年'", 0)]


def test_names_and_functions() -> None:
    expression = parse("len(tags) > 1 and age(born) >= 18 or amount_of(kind) == 0 and true")
    assert expression.names == {"tags", "born", "kind"}
    assert expression.functions == {"len", "age", "amount_of"}
    assert expression.source == "len(tags) > 1 and age(born) >= 18 or amount_of(kind) == 0 and true"
    assert parse("today() == null").names == frozenset()


def test_expressions_are_frozen_values() -> None:
    a, b = parse("copies + 1"), parse("copies + 1")
    assert a == b
    assert hash(a) == hash(b)
    assert a != parse("copies + 2")
    assert isinstance(a, Expression)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.source = "x"  # type: ignore[misc]


# ---------------------------------------------------------------------------
# Static checks


@pytest.mark.parametrize(
    "source",
    [
        "copies > price",
        "copies == 1.5",
        "copies * price // 2",
        "anything > 3",
        "anything + 'x'",
        "anything in anything",
        "hidden == 1",
        "hidden + 1",
        "null == purpose",
        "null < 3",
        "purpose + 'x'",
        "purpose > 'a'",
        "born < today()",
        "born == null",
        "len(tags) + len(purpose)",
        "len(anything)",
        "len(null)",
        "age(born) >= 18 and days_until(born) < 0",
        "age(anything)",
        "'a' in tags",
        "copies in tags",
        "'a' in purpose",
        "purpose not in ['a', 'b']",
        "agree == true",
        "agree",
        "not agree",
        "amount_of(kind) * copies",
        "purpose == 'x' or copies >= 2",
        "[1, 'a', born]",
        "-price",
        "-anything",
    ],
)
def test_check_accepts(source: str) -> None:
    assert check(source) == []


@pytest.mark.parametrize(
    ("source", "message", "offset"),
    [
        ("copeis > 1", "unknown name 'copeis' (did you mean 'copies'?)", 0),
        ("1 + zzz", "unknown name 'zzz'", 4),
        ("today", "unknown name 'today' (did you mean 'today()'?)", 0),
        ("nul == 1", "unknown name 'nul' (did you mean 'null'?)", 0),
        ("first_nme", "unknown name 'first_nme'", 0),
        (
            "first-name == 'x'",
            "'first-name' cannot be used in expressions because of its '-' "
            "(use '_' in the field id instead)",
            0,
        ),
        ("amount_of(copies)", "amount_of() needs a choice field, 'copies' is not one", 10),
        ("amount_of(purpose)", "amount_of() needs a choice field, 'purpose' is not one", 10),
        ("amount_of(len(tags))", "amount_of() needs a choice field, 'len(tags)' is not one", 10),
        ("amount_of(kinds)", "unknown name 'kinds' (did you mean 'kind'?)", 10),
        ("purpose > 3", "cannot compare text with a number (purpose > 3)", 0),
        ("'purpose' > 3", "cannot compare text with a number ('purpose' > 3)", 0),
        ("purpose == 1.5", "cannot compare text with a number (purpose == 1.5)", 0),
        ("price != purpose", "cannot compare a number with text (price != purpose)", 0),
        ("purpose < born", "cannot compare text with a date (purpose < born)", 0),
        ("born == 'x'", "cannot compare a date with text (born == 'x')", 0),
        ("born == copies", "cannot compare a date with a number (born == copies)", 0),
        ("born >= price", "cannot compare a date with a number (born >= price)", 0),
        ("1 < born", "cannot compare a number with a date (1 < born)", 0),
        ("1 < copies < purpose", "cannot compare a number with text (copies < purpose)", 4),
        ("agree and (purpose > 3)", "cannot compare text with a number (purpose > 3)", 11),
        ("agree < true", "cannot use '<' with true/false (agree < true)", 0),
        ("tags > 1", "cannot use '>' with a list (tags > 1)", 0),
        ("1 <= tags", "cannot use '<=' with a list (1 <= tags)", 5),
        ("1 in copies", "'in' needs a list or text on its right, not a number (1 in copies)", 5),
        ("'a' not in born", "'not in' needs a list or text on its right, not a date", 11),
        ("copies in purpose", "cannot look for a number in text (copies in purpose)", 0),
        ("born in 'x'", "cannot look for a date in text (born in 'x')", 0),
        ("copies + purpose", "cannot add a number and text (copies + purpose)", 0),
        ("purpose - purpose", "cannot subtract text and text (purpose - purpose)", 0),
        ("purpose * 2", "cannot multiply text and a number (purpose * 2)", 0),
        ("born + 1", "cannot add a date and a number (born + 1)", 0),
        ("born - today()", "cannot subtract a date and a date (born - today())", 0),
        ("agree // 2", "cannot divide true/false and a number (agree // 2)", 0),
        ("tags + tags", "cannot add a list and a list (tags + tags)", 0),
        ("1 + (true * 2)", "cannot multiply true/false and a number (true * 2)", 5),
        ("-purpose", "cannot negate text (-purpose)", 0),
        ("-born", "cannot negate a date (-born)", 0),
        ("len(copies)", "len() needs text or a list, not a number (len(copies))", 4),
        ("len(price)", "len() needs text or a list, not a number (len(price))", 4),
        ("len(born)", "len() needs text or a list, not a date (len(born))", 4),
        ("len(agree)", "len() needs text or a list, not true/false (len(agree))", 4),
        ("age(purpose)", "age() needs a date, not text (age(purpose))", 4),
        ("age(3)", "age() needs a date, not a number (age(3))", 4),
        ("days_until(copies)", "days_until() needs a date, not a number", 11),
        ("days_until(tags)", "days_until() needs a date, not a list", 11),
    ],
)
def test_check_rejects(source: str, message: str, offset: int) -> None:
    errors = check(source)
    assert len(errors) == 1, errors
    assert errors[0][0].startswith(message)
    assert errors[0][1] == offset


def test_check_reports_every_error_in_source_order() -> None:
    errors = check("zzz > 1 and purpose > 3 or len(copies) == yyy")
    assert errors == [
        ("unknown name 'zzz'", 0),
        ("cannot compare text with a number (purpose > 3)", 12),
        ("len() needs text or a list, not a number (len(copies))", 31),
        ("unknown name 'yyy'", 42),
    ]


def test_check_without_choice_fields_rejects_amount_of() -> None:
    errors = parse("amount_of(kind)").check(SCOPE)
    assert [error.message for error in errors] == [
        "amount_of() needs a choice field, 'kind' is not one"
    ]


def test_hyphenated_names_are_never_suggested() -> None:
    assert check("first_name") == [("unknown name 'first_name'", 0)]


def test_subtraction_of_two_fields_is_not_mistaken_for_a_hyphenated_id() -> None:
    scope = {"a": ValueType.INTEGER, "b": ValueType.INTEGER, "a-b": ValueType.INTEGER}
    assert parse("a-b").check(scope) == []


def test_long_snippets_are_shortened() -> None:
    source = "purpose + 'x' + 'a very long text that does not fit' > 3"
    [(message, offset)] = check(source)
    assert message.startswith("cannot compare text with a number (purpose + 'x'")
    assert message.endswith("...)")
    assert offset == 0


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("copies + 1", ValueType.INTEGER),
        ("copies // 2", ValueType.INTEGER),
        ("copies * price", ValueType.DECIMAL),
        ("price // 2", ValueType.DECIMAL),
        ("-price", ValueType.DECIMAL),
        ("1.5", ValueType.DECIMAL),
        ("3", ValueType.INTEGER),
        ("purpose + 'x'", ValueType.STRING),
        ("'x'", ValueType.STRING),
        ("anything + 1", ValueType.ANY),
        ("anything + 'x'", ValueType.ANY),
        ("unknown", ValueType.ANY),
        ("purpose + 1", ValueType.ANY),
        ("null + 1", ValueType.NULL),
        ("null", ValueType.NULL),
        ("copies > 1", ValueType.BOOLEAN),
        ("copies and purpose", ValueType.BOOLEAN),
        ("not copies", ValueType.BOOLEAN),
        ("true", ValueType.BOOLEAN),
        ("len(tags)", ValueType.INTEGER),
        ("age(born)", ValueType.INTEGER),
        ("days_until(born)", ValueType.INTEGER),
        ("amount_of(kind)", ValueType.INTEGER),
        ("today()", ValueType.DATE),
        ("born", ValueType.DATE),
        ("tags", ValueType.LIST),
        ("[1]", ValueType.LIST),
    ],
)
def test_result_type(source: str, expected: ValueType) -> None:
    assert parse(source).result_type(SCOPE) is expected


# ---------------------------------------------------------------------------
# Limits


def test_source_length_is_capped() -> None:
    assert parse("1" + " " * (MAX_SOURCE_LENGTH - 1)).source.startswith("1")
    error = parse_error("1" + " + 1" * MAX_SOURCE_LENGTH)
    assert error.message.startswith("expression too long")


@pytest.mark.parametrize(
    "source",
    [
        "-" * (MAX_DEPTH + 5) + "1",
        "not " * (MAX_DEPTH + 5) + "x",
        "len(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5),
        "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5),
        "1" + " + 1" * (MAX_DEPTH + 5),
        "-" * (MAX_SOURCE_LENGTH - 1) + "1",  # deep enough to exhaust Python's own parser
    ],
)
def test_nesting_depth_is_capped(source: str) -> None:
    assert "nested too deeply" in parse_error(source).message


def test_parentheses_alone_do_not_count_as_nesting_but_python_limits_them() -> None:
    assert run("(" * 100 + "1" + ")" * 100) == 1
    assert parse_error("(" * 300 + "1" + ")" * 300).message.startswith("syntax error:")


def test_moderate_nesting_is_fine() -> None:
    assert run(" + ".join(["1"] * 40)) == 40
    assert run("-" * 40 + "1") == 1


def test_number_literals_up_to_the_cap_are_accepted() -> None:
    assert run(str(MAX_NUMBER)) == MAX_NUMBER
    assert run("-" + str(MAX_NUMBER)) == -MAX_NUMBER


@pytest.mark.parametrize(
    ("source", "values"),
    [
        ("x * x", {"x": 10**10}),
        ("x * x * x * x * x * x * x * x", {"x": 1000}),
        ("x + 1", {"x": 10**100_000}),
        ("-x", {"x": -(10**30)}),
        ("x * 1000000000000000000", {"x": Decimal("1.5")}),
        ("x // 0.000000000000000001", {"x": Decimal("999999999999999999")}),
        ("x + 1", {"x": Decimal("1e999999")}),
    ],
)
def test_huge_numbers_are_refused(source: str, values: dict[str, Any]) -> None:
    assert eval_error(source, **values).message == "number too large"


def test_huge_values_still_compare() -> None:
    assert run("x > 1 and x == x", x=10**100_000) is True


def test_text_length_is_capped() -> None:
    long_text = "a" * (MAX_TEXT_LENGTH // 2 + 1)
    assert eval_error("s + s", s=long_text).message == "text too long"
    assert len(run("s + 'b'", s="a" * (MAX_TEXT_LENGTH - 1))) == MAX_TEXT_LENGTH


# ---------------------------------------------------------------------------
# Properties

NAMES = ("a", "b", "c", "kind")


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_string_literals = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=6
).map(_quote)
_leaves = st.one_of(
    st.sampled_from(NAMES),
    st.integers(min_value=0, max_value=MAX_NUMBER).map(str),
    st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False).map(lambda d: f"{d:f}"),
    _string_literals,
    st.sampled_from(["true", "false", "null", "today()"]),
)
_BINARY = ("+", "-", "*", "//", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or")


@st.composite
def expressions(draw: st.DrawFn, depth: int = 5) -> tuple[str, frozenset[str], frozenset[str]]:
    """A valid expression from the grammar, with the names and functions it uses."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        leaf = draw(_leaves)
        if leaf in NAMES:
            return leaf, frozenset({leaf}), frozenset()
        return leaf, frozenset(), frozenset({"today"} if leaf == "today()" else ())
    kind = draw(st.sampled_from(["binary", "not", "minus", "list", "call", "amount_of"]))
    if kind == "amount_of":
        name = draw(st.sampled_from(NAMES))
        return f"amount_of({name})", frozenset({name}), frozenset({"amount_of"})
    if kind == "list":
        items = draw(st.lists(expressions(depth - 1), max_size=3))
        return (
            "[" + ", ".join(item[0] for item in items) + "]",
            frozenset().union(*(item[1] for item in items)),
            frozenset().union(*(item[2] for item in items)),
        )
    child, names, functions = draw(expressions(depth - 1))
    if kind == "not":
        return f"not ({child})", names, functions
    if kind == "minus":
        return f"-({child})", names, functions
    if kind == "call":
        function = draw(st.sampled_from(["len", "age", "days_until"]))
        return f"{function}({child})", names, functions | {function}
    other, other_names, other_functions = draw(expressions(depth - 1))
    op = draw(st.sampled_from(_BINARY))
    return f"({child}) {op} ({other})", names | other_names, functions | other_functions


_any_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.decimals(),
        st.floats(),
        st.text(max_size=8),
        st.sampled_from(["", "large", "small", "a", "abc"]),
        st.dates(),
        st.datetimes(),
        st.binary(max_size=4),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=3), children, max_size=3),
    ),
    max_leaves=8,
)
_value_maps = st.dictionaries(st.sampled_from(NAMES), _any_values)
_amount_maps = st.dictionaries(
    st.sampled_from(NAMES),
    st.dictionaries(st.sampled_from(["large", "small", "a"]), st.integers(0, 10_000)),
)


def _assert_sane_error(error: ExpressionError, source: str) -> None:
    assert error.message
    assert 0 <= error.offset <= len(source)


@FAST
@given(
    st.one_of(
        st.text(max_size=60),
        st.text(alphabet="abkn_ ()[]'\"+-*/<>=!,.:#\\\n0123456789年", max_size=40),
        st.lists(
            st.sampled_from(
                [
                    "a",
                    "1",
                    "1.5",
                    "'x'",
                    "(",
                    ")",
                    "[",
                    "]",
                    ",",
                    "+",
                    "-",
                    "*",
                    "//",
                    "==",
                    "<",
                    "in",
                    "not",
                    "and",
                    "or",
                    "len",
                    "today",
                    "age",
                    "amount_of",
                    "null",
                    "lambda",
                    ".",
                    "**",
                    " ",
                ]
            ),
            max_size=12,
        ).map("".join),
    ),
    _value_maps,
)
def test_parse_and_evaluate_raise_only_expression_errors(
    source: str, values: dict[str, Any]
) -> None:
    try:
        expression = parse(source)
    except ExpressionError as error:
        _assert_sane_error(error, source)
        return
    for problem in expression.check(SCOPE, choice_fields=CHOICES):
        _assert_sane_error(problem, source)
    expression.result_type(SCOPE)
    try:
        expression.evaluate(values, today=TODAY, amounts=AMOUNTS)
    except ExpressionError as error:
        _assert_sane_error(error, source)


@settings(FAST, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), _value_maps, _amount_maps, st.dates())
def test_generated_expressions_evaluate_or_raise_expression_error(
    generated: tuple[str, frozenset[str], frozenset[str]],
    values: dict[str, Any],
    amounts: dict[str, dict[str, int]],
    today: dt.date,
) -> None:
    source = generated[0]
    expression = parse(source)
    try:
        expression.evaluate(values, today=today, amounts=amounts)
    except ExpressionError as error:
        _assert_sane_error(error, source)
    try:
        assert isinstance(expression.truthy(values, today=today, amounts=amounts), bool)
    except ExpressionError as error:
        _assert_sane_error(error, source)


@FAST
@given(expressions())
def test_generated_expressions_parse(generated: tuple[str, frozenset[str], frozenset[str]]) -> None:
    source, names, functions = generated
    expression = parse(source)
    assert expression.source == source
    assert expression.names == names
    assert expression.functions == functions
    assert parse(expression.source) == expression


@st.composite
def integer_arithmetic(draw: st.DrawFn, depth: int = 4) -> tuple[str, int | None]:
    """A + - * // expression on small integers and its value (None: out of bounds)."""
    if depth == 0 or draw(st.booleans()):
        number = draw(st.integers(-1000, 1000))
        return str(number), number
    left, left_value = draw(integer_arithmetic(depth - 1))
    right, right_value = draw(integer_arithmetic(depth - 1))
    op = draw(st.sampled_from(["+", "-", "*", "//"]))
    source = f"({left}) {op} ({right})"
    if left_value is None or right_value is None or (op == "//" and right_value == 0):
        return source, None
    value = {
        "+": left_value + right_value,
        "-": left_value - right_value,
        "*": left_value * right_value,
        "//": left_value // right_value if right_value else 0,
    }[op]
    return source, value if abs(value) <= MAX_NUMBER else None


@FAST
@given(integer_arithmetic())
def test_integer_arithmetic_matches_python(generated: tuple[str, int | None]) -> None:
    source, expected = generated
    if expected is None:
        with pytest.raises(ExpressionError):
            run(source)
    else:
        assert run(source) == expected
