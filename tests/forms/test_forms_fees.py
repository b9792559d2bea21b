"""Fee lines: unit × quantity in whole yen, `if`, `each`, and refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from forms.fees import FeeError, compute_fee
from workflow.model import LocalizedText, Procedure

TODAY = date(2026, 11, 24)

PAGES = """
fee:
  when: before_submit
  lines:
    - label: {ja: 住民票の写し, en: Certificate copy}
      unit: 300
      quantity: "copies"
      if: "purpose != 'pension'"
    - label: {ja: 粗大ごみ処理手数料, en: Oversized garbage fee}
      each: items
      unit: "amount_of(kind)"
      quantity: "count"
    - label: 郵送料
      unit: 140
      if: "by_post"
pages:
  - id: request
    title: 請求
    fields:
      - {id: copies, type: integer, label: 部数, min: 0}
      - id: purpose
        type: choice
        label: 使いみち
        choices: [{value: pension, label: 年金}, {value: other, label: その他}]
      - {id: by_post, type: boolean, label: 郵送}
      - {id: with_items, type: boolean, label: 品目あり}
  - id: items
    title: 品目
    show_if: "with_items"
    repeat: {min: 0, max: 10}
    fields:
      - id: kind
        type: choice
        label: 品目
        choices:
          - {value: fan, label: 扇風機, amount: 200}
          - {value: bed, label: ベッド, amount: 1000}
      - {id: count, type: integer, label: 個数}
"""


@pytest.fixture
def procedure(load_procedure: Callable[[str], Procedure]) -> Procedure:
    return load_procedure(PAGES)


def test_literal_unit_times_quantity_expression(procedure: Procedure) -> None:
    quote = compute_fee(procedure, {"copies": 3, "purpose": "other"}, TODAY)
    [line] = quote.lines
    assert line.label.get("en") == "Certificate copy"
    assert (line.unit, line.quantity, line.amount) == (300, 3, 900)
    assert quote.total == 900
    assert not quote.is_free


def test_if_skips_a_line(procedure: Procedure) -> None:
    quote = compute_fee(procedure, {"copies": 3, "purpose": "pension"}, TODAY)
    assert quote.lines == ()
    assert quote.total == 0


def test_quantity_defaults_to_one(procedure: Procedure) -> None:
    quote = compute_fee(procedure, {"purpose": "pension", "by_post": True}, TODAY)
    assert [(line.unit, line.quantity, line.amount) for line in quote.lines] == [(140, 1, 140)]
    assert quote.lines[0].label == LocalizedText.plain("郵送料")


def test_each_gives_one_line_per_item_with_amount_of(procedure: Procedure) -> None:
    answers = {
        "purpose": "pension",
        "with_items": True,
        "items": [{"kind": "bed", "count": 2}, {"kind": "fan", "count": 3}],
    }
    quote = compute_fee(procedure, answers, TODAY)
    assert [(line.item_index, line.unit, line.quantity, line.amount) for line in quote.lines] == [
        (0, 1000, 2, 2000),
        (1, 200, 3, 600),
    ]
    assert quote.total == 2600


def test_items_of_a_hidden_page_cost_nothing(procedure: Procedure) -> None:
    answers = {"purpose": "pension", "with_items": False, "items": [{"kind": "bed", "count": 2}]}
    assert compute_fee(procedure, answers, TODAY).total == 0


def test_zero_total_skips_payment(procedure: Procedure) -> None:
    quote = compute_fee(procedure, {"copies": 0, "purpose": "other"}, TODAY)
    assert quote.total == 0
    assert quote.is_free
    assert [line.amount for line in quote.lines] == [0]


def test_null_unit_or_quantity_counts_as_zero(procedure: Procedure) -> None:
    # No copies answered yet; an item with no kind chosen.
    answers = {"purpose": "other", "with_items": True, "items": [{"count": 2}]}
    quote = compute_fee(procedure, answers, TODAY)
    assert [(line.unit, line.quantity, line.amount) for line in quote.lines] == [
        (300, 0, 0),
        (0, 2, 0),
    ]
    assert quote.total == 0


def test_a_negative_quantity_is_refused(procedure: Procedure) -> None:
    with pytest.raises(FeeError) as caught:
        compute_fee(procedure, {"copies": -2, "purpose": "other"}, TODAY)
    assert "is negative (-2)" in caught.value.message
    assert caught.value.location.file == "test.yaml"


def test_a_procedure_without_fee_costs_nothing(load_procedure: Callable[[str], Procedure]) -> None:
    procedure = load_procedure(
        """
        pages:
          - id: p
            title: p
            fields:
              - {id: a, type: text, label: a}
        """
    )
    quote = compute_fee(procedure, {"a": "x"}, TODAY)
    assert quote.lines == ()
    assert quote.is_free


def test_decimal_results_are_rounded_down(load_procedure: Callable[[str], Procedure]) -> None:
    procedure = load_procedure(
        """
        fee:
          when: before_submit
          lines:
            - {label: 計量手数料, unit: "weight * 150", quantity: "boxes"}
        pages:
          - id: p
            title: p
            fields:
              - {id: weight, type: decimal, label: 重さ, places: 2}
              - {id: boxes, type: decimal, label: 箱数}
        """
    )
    from decimal import Decimal

    quote = compute_fee(procedure, {"weight": Decimal("1.99"), "boxes": Decimal("2.9")}, TODAY)
    [line] = quote.lines
    assert (line.unit, line.quantity, line.amount) == (298, 2, 596)
