"""Answers: what expressions see, what is shown and kept, and the JSON round trip."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from forms.answers import (
    Resolver,
    choice_amounts,
    expression_values,
    from_json,
    is_visible,
    prune_hidden,
    to_json,
    visible_pages,
    with_page_values,
    without_item,
)
from workflow.model import Procedure

TODAY = date(2026, 11, 24)

PAGES = """
pages:
  - id: applicant
    title: 申請者
    fields:
      - {id: birth_date, type: date, label: 生年月日}
      - {id: guardian, type: text, label: 保護者, show_if: "age(birth_date) < 18"}
      - {id: guardian_phone, type: phone, label: 保護者の電話, show_if: "guardian != null"}
      - {id: with_family, type: boolean, label: 家族も}
      - {id: weight, type: decimal, label: 重さ}
      - id: services
        type: multi_choice
        label: 手続
        choices:
          - {value: nhi, label: 国保}
          - {value: pension, label: 年金}
      - {id: documents, type: file, label: 書類}
      - {id: intro, type: note, text: はじめに}
  - id: family
    title: 家族
    show_if: "with_family"
    repeat: {min: 1, max: 5}
    fields:
      - {id: member_name, type: text, label: 氏名, required: true}
      - id: relation
        type: choice
        label: 続柄
        choices: [{value: child, label: 子, amount: 0}, {value: other, label: その他}]
      - {id: relation_detail, type: text, label: 続柄の詳細, show_if: "relation == 'other'"}
  - id: summary
    title: まとめ
    show_if: "len(family) >= 2"
    fields:
      - {id: comment, type: textarea, label: 備考}
"""


@pytest.fixture
def procedure(load_procedure: Callable[[str], Procedure]) -> Procedure:
    return load_procedure(PAGES)


ADULT = date(1980, 1, 1)
CHILD = date(2015, 6, 1)


def test_expression_values_see_top_fields_and_lists_of_items(procedure: Procedure) -> None:
    answers = {
        "birth_date": ADULT,
        "with_family": True,
        "family": [{"member_name": "花子", "relation": "child"}],
    }
    values = expression_values(procedure, answers)
    assert values["birth_date"] == ADULT
    assert values["guardian"] is None
    assert values["family"] == [{"member_name": "花子", "relation": "child"}]
    assert "member_name" not in values  # item fields only exist inside an item
    assert "intro" not in values


def test_inside_an_item_its_fields_shadow(procedure: Procedure) -> None:
    item = {"member_name": "花子", "relation": "other"}
    values = expression_values(procedure, {"family": [item]}, item=item)
    assert values["member_name"] == "花子"
    assert values["family"] == [item]


def test_choice_amounts(procedure: Procedure) -> None:
    # A choice without an amount is left out; amount 0 is an amount.
    assert choice_amounts(procedure) == {"relation": {"child": 0}}


def test_show_if_on_a_field(procedure: Procedure) -> None:
    guardian = procedure.field("guardian")
    assert is_visible(guardian, procedure, {"birth_date": CHILD}, TODAY)
    assert not is_visible(guardian, procedure, {"birth_date": ADULT}, TODAY)
    # No birth date yet: age(null) is null, and null < 18 is false.
    assert not is_visible(guardian, procedure, {}, TODAY)


def test_a_field_depending_on_a_hidden_field_sees_null(procedure: Procedure) -> None:
    phone = procedure.field("guardian_phone")
    # The guardian's name was typed, then the birth date changed to an adult's.
    stale = {"birth_date": ADULT, "guardian": "山田花子"}
    assert not is_visible(phone, procedure, stale, TODAY)
    assert is_visible(phone, procedure, {"birth_date": CHILD, "guardian": "山田花子"}, TODAY)


def test_show_if_on_a_page(procedure: Procedure) -> None:
    assert [p.id for p in visible_pages(procedure, {}, TODAY)] == ["applicant"]
    one = {"with_family": True, "family": [{"member_name": "花子"}]}
    assert [p.id for p in visible_pages(procedure, one, TODAY)] == ["applicant", "family"]
    two = {"with_family": True, "family": [{"member_name": "花子"}, {"member_name": "一郎"}]}
    assert [p.id for p in visible_pages(procedure, two, TODAY)] == [
        "applicant",
        "family",
        "summary",
    ]


def test_a_hidden_repeating_page_is_an_empty_list(procedure: Procedure) -> None:
    answers = {"with_family": False, "family": [{"member_name": "花子"}, {"member_name": "一郎"}]}
    scope = Resolver(procedure, answers, TODAY).scope()
    assert scope["family"] == []
    # ...so the page that counts its items is hidden too.
    assert [p.id for p in visible_pages(procedure, answers, TODAY)] == ["applicant"]


def test_item_fields_are_visible_per_item(procedure: Procedure) -> None:
    detail = procedure.field("relation_detail")
    answers = {
        "with_family": True,
        "family": [{"relation": "child"}, {"relation": "other"}],
    }
    assert not is_visible(detail, procedure, answers, TODAY, item_index=0)
    assert is_visible(detail, procedure, answers, TODAY, item_index=1)


def test_prune_hidden_keeps_only_what_is_shown(procedure: Procedure) -> None:
    answers = {
        "birth_date": ADULT,
        "guardian": "山田花子",
        "guardian_phone": "+81612345678",
        "with_family": True,
        "family": [
            {"member_name": "花子", "relation": "child", "relation_detail": "stale"},
            {"member_name": "一郎", "relation": "other", "relation_detail": "甥"},
        ],
        "comment": "よろしく",
        "not_a_field": 1,
    }
    assert prune_hidden(procedure, answers, TODAY) == {
        "birth_date": ADULT,
        "with_family": True,
        "family": [
            {"member_name": "花子", "relation": "child"},
            {"member_name": "一郎", "relation": "other", "relation_detail": "甥"},
        ],
        "comment": "よろしく",
    }


def test_a_hidden_page_is_not_kept(procedure: Procedure) -> None:
    answers = {"with_family": False, "family": [{"member_name": "花子"}], "comment": "x"}
    assert prune_hidden(procedure, answers, TODAY) == {"with_family": False}


def test_json_round_trip(procedure: Procedure) -> None:
    answers = {
        "birth_date": CHILD,
        "guardian": "山田花子",
        "guardian_phone": "+81612345678",
        "with_family": True,
        "weight": Decimal("12.50"),
        "services": ["nhi", "pension"],
        "documents": [
            {
                "name": "a.pdf",
                "size": 10,
                "sha256": "f" * 64,
                "mime": "application/pdf",
                "key": "f" * 64,
            }
        ],
        "family": [{"member_name": "花子", "relation": "other", "relation_detail": "姪"}],
        "comment": None,
    }
    data = to_json(procedure, answers)
    assert data["birth_date"] == "2015-06-01"
    assert data["weight"] == "12.50"
    text = json.dumps(data, ensure_ascii=False)
    back = from_json(procedure, json.loads(text))
    assert back == answers
    assert isinstance(back["weight"], Decimal)
    assert isinstance(back["birth_date"], date)


def test_json_drops_keys_the_procedure_does_not_know(procedure: Procedure) -> None:
    assert to_json(procedure, {"comment": "x", "other": object()}) == {"comment": "x"}
    assert from_json(procedure, {"comment": "x", "other": 1}) == {"comment": "x"}


def test_with_page_values_and_without_item(procedure: Procedure) -> None:
    applicant = procedure.page("applicant")
    family = procedure.page("family")
    answers = with_page_values(procedure, applicant, {"guardian": "old"}, {"birth_date": ADULT})
    assert answers == {"birth_date": ADULT}  # the page's other answers are replaced
    answers = with_page_values(procedure, family, answers, {"member_name": "花子"}, item_index=0)
    answers = with_page_values(procedure, family, answers, {"member_name": "一郎"}, item_index=1)
    answers = with_page_values(procedure, family, answers, {"member_name": "二郎"}, item_index=1)
    assert answers["family"] == [{"member_name": "花子"}, {"member_name": "二郎"}]
    with pytest.raises(IndexError):
        with_page_values(procedure, family, answers, {}, item_index=5)
    assert without_item(procedure, family, answers, 0)["family"] == [{"member_name": "二郎"}]
    assert answers["family"] == [{"member_name": "花子"}, {"member_name": "二郎"}]  # unchanged


def test_mutually_dependent_conditions_do_not_loop(
    load_procedure: Callable[[str], Procedure],
) -> None:
    procedure = load_procedure(
        """
        pages:
          - id: p
            title: p
            fields:
              - {id: a, type: text, label: a, show_if: "b != null"}
              - {id: b, type: text, label: b, show_if: "a != null"}
        """
    )
    answers = {"a": "x", "b": "y"}
    assert is_visible(procedure.field("a"), procedure, answers, TODAY)
    assert prune_hidden(procedure, answers, TODAY) == answers


def test_a_condition_that_cannot_be_evaluated_shows_the_field_and_is_logged(
    procedure: Procedure, caplog: pytest.LogCaptureFixture
) -> None:
    # A stored value of the wrong kind (text where a date belongs) breaks age().
    answers = {"birth_date": "not a date"}
    with caplog.at_level("WARNING", logger="forms.answers"):
        assert is_visible(procedure.field("guardian"), procedure, answers, TODAY)
    assert "age(birth_date) < 18" in caplog.text
