"""The fee of an application, line by line, in whole yen.

Each `fee.lines` entry of the procedure gives one line (or, with `each:`,
one line per item of a repeating page, evaluated in that item's scope).
`unit` and `quantity` are expressions (a literal ``300`` is one too);
quantity defaults to 1, `if` skips a line, null counts as 0, decimals are
rounded down to whole yen/units, and a negative unit or quantity is
refused: the city never owes the applicant through a fee line.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from forms.answers import Resolver, prune_hidden
from workflow.expressions import Expression, ExpressionError
from workflow.model import FeeLine, LocalizedText, Procedure
from workflow.source import Location

__all__ = ["FeeError", "FeeQuote", "QuoteLine", "compute_fee"]


class FeeError(Exception):
    """A fee line that cannot be computed; a fault of the procedure, not the applicant."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


@dataclass(frozen=True)
class QuoteLine:
    label: LocalizedText
    #: yen per unit
    unit: int
    quantity: int
    #: unit × quantity, in yen
    amount: int
    #: the item of the `each:` page this line is for (None for an ordinary line)
    item_index: int | None = None


@dataclass(frozen=True)
class FeeQuote:
    lines: tuple[QuoteLine, ...]
    #: the sum of the lines, in yen
    total: int

    @property
    def is_free(self) -> bool:
        """A zero total skips payment."""
        return self.total == 0


def _whole(value: Any, line: FeeLine, index: int | None, what: str, expression: Expression) -> int:
    where = f"fee line '{line.label.get()}'" + (f" (item {index + 1})" if index is not None else "")
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise FeeError(
            line.location,
            f"{where}: {what} '{expression.source}' gives {value!r}, not a number",
        )
    if value < 0:
        raise FeeError(
            line.location, f"{where}: {what} '{expression.source}' is negative ({value})"
        )
    if isinstance(value, Decimal):
        return int(value.to_integral_value(rounding=ROUND_FLOOR))
    return value


def _evaluate(
    expression: Expression,
    scope: Mapping[str, Any],
    resolver: Resolver,
    line: FeeLine,
    what: str,
) -> Any:
    try:
        return expression.evaluate(scope, today=resolver.today, amounts=resolver.amounts)
    except ExpressionError as error:
        raise FeeError(
            line.location, f"fee line '{line.label.get()}': {what}: {error.message}"
        ) from None


def _line(
    line: FeeLine, scope: Mapping[str, Any], resolver: Resolver, index: int | None
) -> QuoteLine | None:
    if line.if_ is not None and not _evaluate(line.if_, scope, resolver, line, "if"):
        return None
    unit = _whole(
        _evaluate(line.unit, scope, resolver, line, "unit"), line, index, "unit", line.unit
    )
    quantity = 1
    if line.quantity is not None:
        quantity = _whole(
            _evaluate(line.quantity, scope, resolver, line, "quantity"),
            line,
            index,
            "quantity",
            line.quantity,
        )
    return QuoteLine(line.label, unit, quantity, unit * quantity, index)


def compute_fee(procedure: Procedure, answers: Mapping[str, Any], today: datetime.date) -> FeeQuote:
    """The itemised fee for `answers` (hidden answers do not count); raises `FeeError`."""
    if procedure.fee is None:
        return FeeQuote((), 0)
    resolver = Resolver(procedure, prune_hidden(procedure, answers, today), today)
    lines: list[QuoteLine] = []
    for line in procedure.fee.lines:
        if line.each is None:
            quoted = _line(line, resolver.scope(), resolver, None)
            if quoted is not None:
                lines.append(quoted)
            continue
        page = procedure.page(line.each)
        if not resolver.page_visible(page):
            continue
        for index in range(len(resolver.items(page))):
            quoted = _line(line, resolver.scope(page, index), resolver, index)
            if quoted is not None:
                lines.append(quoted)
    return FeeQuote(tuple(lines), sum(quoted.amount for quoted in lines))
