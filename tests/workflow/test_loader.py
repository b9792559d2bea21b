"""Loading procedure files: the typed model, and every mistake reported at its place.

Most tests take `BASE`, a valid procedure, change one thing in it and check
the message `check` prints: its `p.yaml:LINE:COL: error:` prefix and its key
words.  Positions are found with `at(text, "snippet")`, which gives the
1-based line and column where the snippet starts in the YAML text, i.e. the
place an editor would jump to; a few positions are also spelt out by hand.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from forms.registry import REGISTRY
from workflow.expressions import Expression
from workflow.loader import (
    LoadResult,
    ProcedureError,
    load_offices_file,
    load_offices_text,
    load_procedure,
    load_procedure_file,
    load_procedure_text,
)
from workflow.model import Office, Procedure
from workflow.source import Diagnostic

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FILE = "p.yaml"


@pytest.fixture(scope="module")
def offices() -> dict[str, Office]:
    result = load_offices_file(PROJECT_ROOT / "offices.yaml")
    assert result.errors == []
    return result.offices


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A templates folder holding the documents the procedures below name."""
    folder = tmp_path_factory.mktemp("templates")
    for name in ("decision.html", "rejection.html"):
        (folder / name).write_text("<p>{{ procedure.title }}</p>", encoding="utf-8")
    return folder


Loader = Callable[[str], LoadResult]


@pytest.fixture
def load(offices: dict[str, Office], templates: Path) -> Loader:
    """Load procedure text as `p.yaml`, with the shipped offices and the test templates."""

    def load(text: str) -> LoadResult:
        return load_procedure_text(
            text, FILE, field_types=REGISTRY, offices=offices, template_dirs=[templates]
        )

    return load


BASE = textwrap.dedent(
    """\
    procedure: permit
    version: 3
    title: {ja: 許可申請, en: Permit application}
    office: by_address
    route_by: postal_code
    standard_processing_days: 5
    retention_years: 5
    fee:
      when: before_submit
      lines:
        - label: {ja: 手数料, en: Fee}
          unit: 300
          quantity: copies
          if: "purpose != 'pension'"
        - label: {ja: 品目, en: Items}
          each: items
          unit: amount_of(kind)
          quantity: count
    pages:
      - id: applicant
        title: {ja: 申請者, en: Applicant}
        fields:
          - id: name
            type: text
            label: {ja: 氏名, en: Full name}
            required: true
          - id: postal_code
            type: postal_code
            label: {ja: 郵便番号, en: Postal code}
            required: true
          - id: birth_date
            type: date
            label: {ja: 生年月日, en: Date of birth}
          - id: copies
            type: integer
            label: {ja: 部数, en: Copies}
            min: 1
          - id: purpose
            type: choice
            label: {ja: 目的, en: Purpose}
            choices:
              - {value: pension, label: {ja: 年金, en: Pension}}
              - {value: other, label: {ja: その他, en: Other}}
      - id: items
        title: {ja: 品目, en: Items}
        repeat: {min: 1, max: 5}
        show_if: "copies > 1"
        fields:
          - id: kind
            type: choice
            label: {ja: 種類, en: Kind}
            choices:
              - {value: sofa, label: {ja: ソファ, en: Sofa}, amount: 1000}
              - {value: desk, label: {ja: 机, en: Desk}, amount: 400}
          - id: count
            type: integer
            label: {ja: 数量, en: Count}
    workflow:
      roles: [clerk, supervisor]
      initial: received
      states:
        received: {label: {ja: 受付, en: Received}, queue: clerk}
        correction: {label: {ja: 補正, en: Correction}, with: applicant}
        approval: {label: {ja: 決裁, en: Approval}, queue: supervisor}
        issued: {label: {ja: 交付, en: Issued}, final: true, outcome: approved}
        rejected: {label: {ja: 却下, en: Rejected}, final: true, outcome: rejected}
        withdrawn: {label: {ja: 取下げ, en: Withdrawn}, final: true, outcome: withdrawn}
      transitions:
        - {action: recommend, from: received, to: approval, by: clerk, if: "copies <= 10"}
        - {action: request_correction, from: received, to: correction, by: clerk, edit: [items]}
        - {action: resubmit, from: correction, to: received, by: applicant}
        - {action: approve, from: approval, to: issued, by: supervisor, document: decision}
        - {action: reject, from: [received, approval], to: rejected, by: [clerk, supervisor]}
        - {action: withdraw, from: "*", to: withdrawn, by: applicant}
    documents:
      decision: {title: {ja: 決定通知書, en: Notice of decision}, template: decision.html}
    """
)


def variant(old: str, new: str, text: str = BASE) -> str:
    """`text` with the one occurrence of `old` replaced by `new`."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def at(text: str, snippet: str, nth: int | None = None) -> str:
    """`p.yaml:LINE:COL` of `snippet` in `text` (the only occurrence, or the nth)."""
    hits = [
        (number, match.start() + 1)
        for number, line in enumerate(text.splitlines(), start=1)
        for match in re.finditer(re.escape(snippet), line)
    ]
    if nth is None:
        assert len(hits) == 1, f"{snippet!r} occurs {len(hits)} times"
        nth = 0
    line, col = hits[nth]
    return f"{FILE}:{line}:{col}"


def error_at(result: LoadResult, where: str, *words: str) -> Diagnostic:
    """The error reported at `where` whose message has every one of `words`."""
    for diagnostic in result.errors:
        line = str(diagnostic)
        if line.startswith(f"{where}: error: ") and all(w in diagnostic.message for w in words):
            return diagnostic
    listing = "\n".join(map(str, result.diagnostics)) or "(no diagnostics)"
    raise AssertionError(f"no error at {where} with {words}; got:\n{listing}")


def only_error(result: LoadResult, where: str, *words: str) -> Diagnostic:
    found = error_at(result, where, *words)
    assert result.errors == [found], "\n".join(map(str, result.errors))
    assert result.procedure is None
    return found


# --- a valid procedure ---------------------------------------------------------


def test_the_base_procedure_loads_without_errors_or_warnings(load: Loader) -> None:
    result = load(BASE)
    assert result.diagnostics == []
    assert result.ok
    assert isinstance(result.procedure, Procedure)


@pytest.fixture
def procedure(load: Loader) -> Procedure:
    result = load(BASE)
    assert result.procedure is not None, "\n".join(map(str, result.diagnostics))
    return result.procedure


def test_top_level_values_are_typed(procedure: Procedure) -> None:
    assert procedure.id == "permit"
    assert procedure.version == 3
    assert procedure.key == ("permit", 3)
    assert procedure.office == "by_address"
    assert procedure.route_by == "postal_code"
    assert procedure.standard_processing_days == 5
    assert procedure.retention_years == 5
    assert procedure.source_path == FILE
    assert procedure.location.line == 1
    # Defaults of what the file leaves out.
    assert procedure.applicant.login == "required"
    assert procedure.applicant.identity == "none"
    assert procedure.applicant.proxy == "forbidden"
    assert procedure.sign is None
    assert procedure.summary is None


def test_localized_text_gives_each_language_and_falls_back_to_japanese(
    procedure: Procedure,
) -> None:
    assert procedure.title.get("ja") == "許可申請"
    assert procedure.title.get("en") == "Permit application"
    assert procedure.title.get() == "許可申請"
    # A language the file does not have falls back to Japanese.
    assert procedure.title.get("ko") == "許可申請"
    assert str(procedure.title) == "許可申請"
    assert not procedure.title.is_plain


def test_a_mapping_without_english_falls_back_to_japanese_with_a_warning(load: Loader) -> None:
    text = variant("title: {ja: 許可申請, en: Permit application}", "title: {ja: 許可申請}")
    result = load(text)
    assert result.errors == []
    assert result.ok
    assert [str(d) for d in result.diagnostics] == [
        # The flow mapping starts at the '{', column 8.
        "p.yaml:3:8: warning: title has no 'en' translation"
    ]
    assert result.procedure is not None
    assert result.procedure.title.get("en") == "許可申請"


def test_plain_text_is_the_same_in_every_language_and_needs_no_translation(load: Loader) -> None:
    text = variant("title: {ja: 申請者, en: Applicant}", "title: 申請者")
    result = load(text)
    assert result.diagnostics == []
    assert result.procedure is not None
    title = result.procedure.page("applicant").title
    assert title.is_plain
    assert title.get("en") == title.get("ja") == "申請者"


def test_pages_and_fields_keep_their_ids_types_and_options(procedure: Procedure) -> None:
    assert [p.id for p in procedure.pages] == ["applicant", "items"]
    applicant = procedure.page("applicant")
    assert [f.id for f in applicant.fields] == [
        "name",
        "postal_code",
        "birth_date",
        "copies",
        "purpose",
    ]
    name = procedure.field("name")
    assert (name.type, name.required, name.page_id) == ("text", True, "applicant")
    assert name.label is not None
    assert name.label.get("en") == "Full name"
    assert procedure.field("birth_date").required is False
    assert procedure.field("copies").option("min") == 1
    assert procedure.field("copies").option("max") is None
    assert [f.id for f in procedure.all_fields()][-2:] == ["kind", "count"]
    with pytest.raises(KeyError):
        procedure.field("nothing")


def test_choices_keep_values_labels_and_amounts(procedure: Procedure) -> None:
    purpose = procedure.field("purpose").choices
    assert [(c.value, c.label.get("en"), c.amount) for c in purpose] == [
        ("pension", "Pension", None),
        ("other", "Other", None),
    ]
    kind = procedure.field("kind").choices
    assert [(c.value, c.label.get("ja"), c.amount) for c in kind] == [
        ("sofa", "ソファ", 1000),
        ("desk", "机", 400),
    ]


def test_a_repeating_page_and_its_show_if_are_kept(procedure: Procedure) -> None:
    items = procedure.page("items")
    assert items.repeat is not None
    assert (items.repeat.min, items.repeat.max) == (1, 5)
    assert isinstance(items.show_if, Expression)
    assert items.show_if.source == "copies > 1"
    assert items.show_if.names == frozenset({"copies"})
    assert procedure.page("applicant").repeat is None


def test_expressions_are_parsed_and_can_be_evaluated(procedure: Procedure) -> None:
    fee = procedure.fee
    assert fee is not None
    assert fee.when == "before_submit"
    assert fee.methods == ("card", "konbini", "qr", "payeasy")
    first, per_item = fee.lines
    assert first.unit.source == "300"
    assert first.quantity is not None
    assert first.quantity.source == "copies"
    assert first.if_ is not None
    assert first.if_.source == "purpose != 'pension'"
    today = datetime.date(2026, 6, 1)
    assert first.if_.truthy({"purpose": "other"}, today=today)
    assert not first.if_.truthy({"purpose": "pension"}, today=today)
    assert per_item.each == "items"
    assert per_item.unit.functions == frozenset({"amount_of"})
    amounts = {"kind": {"sofa": 1000, "desk": 400}}
    assert per_item.unit.evaluate({"kind": "desk"}, today=today, amounts=amounts) == 400
    assert procedure.has_fee


def test_states_and_transitions_are_loaded(procedure: Procedure) -> None:
    workflow = procedure.workflow
    assert workflow.roles == ("clerk", "supervisor")
    assert workflow.all_roles == ("clerk", "supervisor", "applicant", "system")
    assert workflow.initial == "received"
    assert list(workflow.states) == [
        "received",
        "correction",
        "approval",
        "issued",
        "rejected",
        "withdrawn",
    ]
    received = workflow.states["received"]
    assert (received.queue, received.final, received.clock_runs) == ("clerk", False, True)
    correction = workflow.states["correction"]
    assert (correction.with_, correction.clock_runs) == ("applicant", False)
    issued = workflow.states["issued"]
    assert (issued.final, issued.outcome) == (True, "approved")
    [recommend] = procedure.transition("recommend")
    assert (recommend.from_, recommend.to, recommend.by) == (("received",), "approval", ("clerk",))
    assert recommend.if_ is not None
    assert recommend.if_.source == "copies <= 10"
    assert recommend.comment == "optional"
    assert recommend.display_label() == "recommend"
    [reject] = procedure.transition("reject")
    assert reject.from_ == ("received", "approval")
    assert reject.by == ("clerk", "supervisor")
    [correct] = procedure.transition("request_correction")
    assert correct.edit == ("items",)
    [approve] = procedure.transition("approve")
    assert approve.document == "decision"


def test_from_star_means_every_non_final_state(procedure: Procedure) -> None:
    [withdraw] = procedure.transition("withdraw")
    assert withdraw.from_ == ("received", "correction", "approval")


def test_a_document_template_is_found_in_the_templates_folder(
    procedure: Procedure, templates: Path
) -> None:
    decision = procedure.documents["decision"]
    assert decision.title.get("en") == "Notice of decision"
    assert decision.template == "decision.html"
    assert decision.template_path == str(templates / "decision.html")


def test_a_document_template_beside_the_procedure_is_found_first(
    tmp_path: Path, offices: dict[str, Office], templates: Path
) -> None:
    (tmp_path / "decision.html").write_text("<p>beside</p>", encoding="utf-8")
    path = tmp_path / "permit.yaml"
    path.write_text(BASE, encoding="utf-8")
    for template_dirs in ([], [templates]):
        result = load_procedure_file(
            path, field_types=REGISTRY, offices=offices, template_dirs=template_dirs
        )
        assert result.errors == [], "\n".join(map(str, result.errors))
        assert result.procedure is not None
        assert result.procedure.documents["decision"].template_path == str(
            tmp_path / "decision.html"
        )


def test_load_procedure_returns_a_valid_procedure_and_raises_for_a_broken_one(
    tmp_path: Path, offices: dict[str, Office], templates: Path
) -> None:
    options = {"field_types": REGISTRY, "offices": offices, "template_dirs": [templates]}
    good = tmp_path / "good.yaml"
    good.write_text(BASE, encoding="utf-8")
    assert load_procedure(good, **options).id == "permit"
    bad = tmp_path / "bad.yaml"
    bad.write_text(variant("version: 3", "version: three"), encoding="utf-8")
    with pytest.raises(ProcedureError) as caught:
        load_procedure(bad, **options)
    assert [str(d) for d in caught.value.diagnostics] == [
        f"{bad}:2:10: error: version must be a whole number, not text"
    ]


def test_the_loaded_model_is_immutable(procedure: Procedure) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        procedure.version = 4  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        procedure.pages[0].fields[0].required = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        procedure.workflow.states["received"].final = True  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        procedure.title.texts = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        procedure.workflow.states["extra"] = procedure.workflow.states["received"]  # type: ignore[index]
    with pytest.raises(TypeError):
        procedure.documents["extra"] = procedure.documents["decision"]  # type: ignore[index]
    with pytest.raises(TypeError):
        procedure.field("copies").options["min"] = 0  # type: ignore[index]
    assert isinstance(procedure.pages, tuple)
    assert isinstance(procedure.workflow.transitions, tuple)


# --- the fingerprint -----------------------------------------------------------


def fingerprint_of(load: Loader, text: str) -> str:
    result = load(text)
    assert result.procedure is not None, "\n".join(map(str, result.diagnostics))
    return result.procedure.fingerprint


def test_the_fingerprint_is_a_sha256_in_hex(load: Loader) -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint_of(load, BASE))


def test_comments_whitespace_key_order_and_quoting_keep_the_fingerprint(load: Loader) -> None:
    same = "# 許可申請の手続\n\n" + BASE
    same = variant("procedure: permit", 'procedure: "permit"   # the id', same)
    same = variant(
        "title: {ja: 許可申請, en: Permit application}",
        "title:\n  en: 'Permit application'\n  ja:   許可申請",
        same,
    )
    same = variant(
        "standard_processing_days: 5\nretention_years: 5",
        "retention_years: 5\n\nstandard_processing_days: 5",
        same,
    )
    same = variant("roles: [clerk, supervisor]", "roles:\n    - clerk\n    - supervisor", same)
    assert same != BASE
    assert fingerprint_of(load, same) == fingerprint_of(load, BASE)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("unit: 300", "unit: 400"),
        ("version: 3", "version: 4"),
        ("en: Permit application", "en: Permit request"),
        ("max: 5}", "max: 6}"),
    ],
)
def test_a_changed_value_changes_the_fingerprint(load: Loader, old: str, new: str) -> None:
    assert fingerprint_of(load, variant(old, new)) != fingerprint_of(load, BASE)


# --- YAML itself -----------------------------------------------------------------


def test_a_yaml_syntax_error_is_reported_where_the_parser_stopped(load: Loader) -> None:
    # "title: 許可申請: Permit" has a second ': ' at column 12 of line 3.
    text = variant("title: {ja: 許可申請, en: Permit application}", "title: 許可申請: Permit")
    result = load(text)
    assert result.procedure is None
    assert [str(d) for d in result.diagnostics] == [
        "p.yaml:3:12: error: YAML syntax error: mapping values are not allowed here"
    ]


def test_an_unclosed_flow_mapping_is_a_yaml_syntax_error(load: Loader) -> None:
    text = variant(
        "title: {ja: 許可申請, en: Permit application}", "title: {ja: 許可申請, en: Permit"
    )
    result = load(text)
    assert result.procedure is None
    [diagnostic] = result.diagnostics
    assert diagnostic.severity == "error"
    assert diagnostic.message.startswith("YAML syntax error: ")
    # The parser notices at the next line, where the mapping should have closed.
    assert (diagnostic.location.line, diagnostic.location.col) == (4, 7)


def test_a_duplicate_key_is_reported_at_the_second_key(load: Loader) -> None:
    text = variant(
        "        required: true\n      - id: postal_code",
        "        required: true\n        required: false\n      - id: postal_code",
    )
    result = load(text)
    assert result.procedure is None
    # The first `required:` of the name field is on line 26.
    assert [str(d) for d in result.diagnostics] == [
        "p.yaml:27:9: error: duplicate key 'required' (first given at line 26)"
    ]


def test_a_duplicate_top_level_key_is_reported_at_the_second_key(load: Loader) -> None:
    text = variant("version: 3\n", "version: 3\nversion: 4\n")
    result = load(text)
    assert [str(d) for d in result.diagnostics] == [
        "p.yaml:3:1: error: duplicate key 'version' (first given at line 2)"
    ]


def test_an_empty_file_is_an_error(load: Loader) -> None:
    result = load("# nothing yet\n")
    assert [str(d) for d in result.diagnostics] == ["p.yaml:1:1: error: the file is empty"]


# --- unknown keys --------------------------------------------------------------------


def test_an_unknown_top_level_key_suggests_the_right_one(load: Loader) -> None:
    text = variant("retention_years: 5", "retension_years: 5")
    result = load(text)
    error_at(
        result,
        at(text, "retension_years"),
        "unknown key 'retension_years'",
        "did you mean 'retention_years'?",
    )
    # The key it was meant to be is then missing.
    error_at(result, "p.yaml:1:1", "needs the key 'retention_years'")
    assert len(result.errors) == 2
    assert result.procedure is None


def test_an_unknown_field_key_suggests_the_right_one(load: Loader) -> None:
    text = variant(
        "        required: true\n      - id: postal_code",
        "        requird: true\n      - id: postal_code",
    )
    only_error(
        load(text),
        "p.yaml:26:9",
        "unknown key 'requird' in a field of type text",
        "did you mean 'required'?",
    )


def test_a_key_of_another_field_type_is_unknown(load: Loader) -> None:
    # `min` belongs to integer fields, not to text fields.
    text = variant(
        "        required: true\n      - id: postal_code",
        "        required: true\n        min: 3\n      - id: postal_code",
    )
    only_error(load(text), "p.yaml:27:9", "unknown key 'min' in a field of type text")


def test_an_unknown_state_key_suggests_the_right_one(load: Loader) -> None:
    text = variant(
        "received: {label: {ja: 受付, en: Received}, queue: clerk}",
        "received: {label: {ja: 受付, en: Received}, queu: clerk}",
    )
    only_error(
        load(text),
        at(text, "queu:"),
        "unknown key 'queu' in state 'received'",
        "did you mean 'queue'?",
    )


def test_an_unknown_transition_key_suggests_the_right_one(load: Loader) -> None:
    text = variant(
        "{action: resubmit, from: correction, to: received, by: applicant}",
        "{action: resubmit, from: correction, to: received, by: applicant, coment: none}",
    )
    only_error(
        load(text),
        at(text, "coment"),
        "unknown key 'coment' in a transition",
        "did you mean 'comment'?",
    )


# --- wrong types -----------------------------------------------------------------


def test_a_version_in_words_is_a_wrong_type(load: Loader) -> None:
    text = variant("version: 3", "version: three")
    only_error(load(text), "p.yaml:2:10", "version must be a whole number, not text")


def test_required_in_quotes_is_text_not_a_boolean(load: Loader) -> None:
    text = variant(
        "        required: true\n      - id: postal_code",
        '        required: "yes"\n      - id: postal_code',
    )
    only_error(load(text), "p.yaml:26:19", "required must be true or false, not text")


def test_yes_is_not_a_boolean(load: Loader) -> None:
    # YAML 1.2: only true and false are booleans; `yes` is text.
    text = variant(
        "        required: true\n      - id: postal_code",
        "        required: yes\n      - id: postal_code",
    )
    only_error(load(text), "p.yaml:26:19", "required must be true or false, not text")


def test_pages_given_as_a_mapping_is_a_wrong_type(load: Loader) -> None:
    text = re.sub(r"pages:\n(?:  .*\n)+", "pages:\n  applicant:\n    title: 申請者\n", BASE)
    result = load(text)
    error_at(result, "p.yaml:20:3", "pages must be a list, not a mapping")
    assert result.procedure is None


def test_a_negative_count_is_refused(load: Loader) -> None:
    text = variant("standard_processing_days: 5", "standard_processing_days: -5")
    only_error(load(text), "p.yaml:6:27", "standard_processing_days must be at least 0, not -5")


# --- ids -------------------------------------------------------------------------


def test_a_procedure_id_with_capitals_is_not_a_valid_id(load: Loader) -> None:
    text = variant("procedure: permit", "procedure: Road_Permit")
    only_error(load(text), "p.yaml:1:12", "procedure 'Road_Permit' is not a valid id")


def test_a_field_id_with_a_space_is_not_a_valid_id(load: Loader) -> None:
    text = variant("      - id: birth_date", "      - id: birth date")
    only_error(load(text), at(text, "birth date"), "field id 'birth date' is not a valid id")


def test_a_duplicate_page_id_is_reported_at_the_second_page(load: Loader) -> None:
    text = variant("  - id: items\n", "  - id: applicant\n")
    result = load(text)
    error_at(
        result,
        at(text, "id: applicant", nth=1),
        "duplicate page id 'applicant' (first used at line 20)",
    )
    assert result.procedure is None


def test_a_field_id_used_on_two_pages_is_a_duplicate(load: Loader) -> None:
    text = variant("      - id: count\n", "      - id: name\n")
    result = load(text)
    error_at(
        result,
        at(text, "id: name", nth=1),
        "duplicate field id 'name' (first used at line 23)",
        "unique across the procedure",
    )
    assert result.procedure is None


def test_a_duplicate_choice_value_is_reported_at_the_second_choice(load: Loader) -> None:
    text = variant("{value: desk,", "{value: sofa,")
    only_error(
        load(text),
        at(text, "{value: sofa", nth=1),
        "duplicate choice value 'sofa' (first used at line 53)",
    )


def test_a_transition_field_with_the_id_of_a_page_field_is_a_duplicate(load: Loader) -> None:
    text = variant(
        "by: supervisor, document: decision}",
        "by: supervisor, document: decision, fields: [{id: name, type: text, label: 番号}]}",
    )
    only_error(load(text), at(text, "{id: name"), "duplicate field id 'name'")


# --- references ----------------------------------------------------------------------


def test_an_edit_page_that_does_not_exist_points_at_the_page_name(load: Loader) -> None:
    text = variant("edit: [items]", "edit: [item]")
    only_error(
        load(text),
        at(text, "item]"),
        "edit names an unknown page 'item'",
        "did you mean 'items'?",
    )


def test_fee_each_naming_an_unknown_page_points_at_it(load: Loader) -> None:
    text = variant("each: items", "each: item")
    error_at(
        load(text),
        "p.yaml:16:13",
        "each: must name a repeating page",
        "unknown page 'item'",
        "did you mean 'items'?",
    )


def test_a_mistyped_each_does_not_make_the_item_fields_unknown_names(load: Loader) -> None:
    """One typo, one message: `kind` and `count` do exist, on the items page.

    Reporting "unknown name 'kind'" for `unit: amount_of(kind)` sends the
    administrator after a mistake they did not make.
    """
    text = variant("each: items", "each: item")
    only_error(load(text), "p.yaml:16:13", "each: must name a repeating page")


def test_fee_each_naming_a_page_that_does_not_repeat_is_refused(load: Loader) -> None:
    text = variant("each: items", "each: applicant")
    result = load(text)
    error_at(
        result,
        "p.yaml:16:13",
        "each: must name a repeating page",
        "'applicant' is not a repeating page",
    )
    assert result.procedure is None


def test_route_by_naming_an_unknown_field_points_at_it(load: Loader) -> None:
    text = variant("route_by: postal_code", "route_by: postcode")
    only_error(
        load(text),
        "p.yaml:5:11",
        "route_by names an unknown field 'postcode'",
        "did you mean 'postal_code'?",
    )


def test_route_by_naming_a_field_that_is_not_a_postal_code_is_refused(load: Loader) -> None:
    text = variant("route_by: postal_code", "route_by: name")
    only_error(
        load(text),
        "p.yaml:5:11",
        "route_by must name a postal_code field; 'name' is a text field",
    )


def test_office_by_address_without_route_by_is_refused(load: Loader) -> None:
    text = variant("route_by: postal_code\n", "")
    only_error(load(text), "p.yaml:4:1", "office: by_address needs route_by")


def test_an_unknown_office_points_at_it(load: Loader) -> None:
    text = variant("office: by_address\nroute_by: postal_code", "office: kita-ward")
    only_error(
        load(text),
        "p.yaml:4:9",
        "unknown office 'kita-ward'",
        "by_address or an office id from offices.yaml",
    )


def test_a_known_office_id_is_accepted(load: Loader) -> None:
    text = variant("office: by_address\nroute_by: postal_code", "office: city-hall")
    result = load(text)
    assert result.errors == []
    assert result.procedure is not None
    assert result.procedure.office == "city-hall"


def test_offices_can_be_given_inline(offices: dict[str, Office], templates: Path) -> None:
    small = load_offices_text(
        textwrap.dedent(
            """\
            offices:
              - {id: kita, code: "27127", name: {ja: 北区役所, en: Kita Ward Office}}
            """
        ),
        "offices.yaml",
    )
    assert small.errors == []
    assert small.offices["kita"].code == "27127"
    good = variant("office: by_address\nroute_by: postal_code", "office: kita")
    bad = variant("office: by_address\nroute_by: postal_code", "office: city-hall")
    options = {"field_types": REGISTRY, "offices": small.offices, "template_dirs": [templates]}
    assert load_procedure_text(good, FILE, **options).ok
    only_error(
        load_procedure_text(bad, FILE, **options),
        "p.yaml:4:9",
        "unknown office 'city-hall'",
    )


def test_the_shipped_offices_are_the_24_wards_and_city_hall(offices: dict[str, Office]) -> None:
    codes = sorted(o.code for o in offices.values())
    assert len(offices) == 25
    assert codes[0] == "27100"
    assert offices["city-hall"].code == "27100"
    ward_codes = [c for c in codes if c != "27100"]
    assert len(ward_codes) == 24
    assert all("27102" <= c <= "27128" for c in ward_codes)


def test_an_unknown_state_in_from_points_at_the_from_value(load: Loader) -> None:
    text = variant("{action: resubmit, from: correction,", "{action: resubmit, from: corection,")
    result = load(text)
    error_at(
        result,
        at(text, "corection"),
        "from names an unknown state 'corection'",
        "did you mean 'correction'?",
    )
    assert result.procedure is None


def test_an_unknown_state_in_a_from_list_points_at_that_item(load: Loader) -> None:
    text = variant("from: [received, approval]", "from: [received, aproval]")
    only_error(
        load(text),
        at(text, "aproval"),
        "from names an unknown state 'aproval'",
        "did you mean 'approval'?",
    )


def test_an_unknown_state_in_to_points_at_the_to_value(load: Loader) -> None:
    text = variant("to: rejected,", "to: rejeted,")
    result = load(text)
    error_at(
        result,
        at(text, "rejeted"),
        "to names an unknown state 'rejeted'",
        "did you mean 'rejected'?",
    )
    assert result.procedure is None


def test_a_mistyped_to_does_not_make_its_target_look_unreachable(load: Loader) -> None:
    """One typo, one message: 'rejected' is reachable once the typo is fixed.

    A transition that failed to load must not be left out of the graph
    checks as if the administrator had not written it.
    """
    text = variant("to: rejected,", "to: rejeted,")
    only_error(load(text), at(text, "rejeted"), "to names an unknown state 'rejeted'")


def test_an_unknown_initial_state_points_at_it(load: Loader) -> None:
    text = variant("initial: received", "initial: recieved")
    result = load(text)
    error_at(
        result,
        "p.yaml:60:12",
        "initial names an unknown state 'recieved'",
        "did you mean 'received'?",
    )
    assert result.procedure is None


def test_an_unknown_role_in_by_points_at_it(load: Loader) -> None:
    text = variant("by: [clerk, supervisor]", "by: [clerk, supervisr]")
    only_error(
        load(text),
        at(text, "supervisr"),
        "by names an unknown role 'supervisr'",
        "did you mean 'supervisor'?",
    )


def test_an_unknown_role_in_a_queue_points_at_it(load: Loader) -> None:
    text = variant("queue: supervisor}", "queue: approver}")
    only_error(
        load(text),
        at(text, "approver"),
        "queue names an unknown role 'approver'",
        "list staff roles in workflow.roles",
    )


def test_an_unknown_document_points_at_it(load: Loader) -> None:
    text = variant("document: decision}", "document: decisoin}")
    only_error(
        load(text),
        at(text, "decisoin"),
        "document names an unknown document 'decisoin'",
        "did you mean 'decision'?",
    )


def test_the_built_in_documents_need_no_declaration(load: Loader) -> None:
    text = variant("document: decision}", "document: receipt}")
    assert load(text).ok


def test_a_missing_template_file_points_at_the_template(load: Loader) -> None:
    text = variant("template: decision.html", "template: decision-v2.html")
    only_error(
        load(text),
        at(text, "decision-v2.html"),
        "template 'decision-v2.html' not found",
    )


def test_an_unknown_field_type_suggests_the_right_one(load: Loader) -> None:
    text = variant("type: postal_code", "type: postalcode")
    result = load(text)
    error_at(
        result,
        at(text, "postalcode"),
        "unknown field type 'postalcode'",
        "did you mean 'postal_code'?",
    )
    assert result.procedure is None


# --- expressions --------------------------------------------------------------------


def test_an_expression_syntax_error_points_inside_the_expression(load: Loader) -> None:
    # `if: "copies <= = 10"`: the stray '=' is the 11th character of the
    # expression, which starts after the quote at column 72 of line 69.
    text = variant('if: "copies <= 10"}', 'if: "copies <= = 10"}')
    assert at(text, '"copies', nth=1) == "p.yaml:69:72"
    only_error(load(text), "p.yaml:69:83", "if: syntax error", "use '==' to compare")


def test_an_unknown_name_in_an_expression_points_at_the_name(load: Loader) -> None:
    text = variant('show_if: "copies > 1"', 'show_if: "copis > 1"')
    # show_if: "copis... : the quote is at column 14, the name at column 15.
    only_error(
        load(text),
        "p.yaml:47:15",
        "show_if: unknown name 'copis'",
        "did you mean 'copies'?",
    )


def test_an_unknown_name_after_other_text_points_at_the_name(load: Loader) -> None:
    text = variant(
        "if: \"purpose != 'pension'\"", "if: \"purpose != 'pension' and age(birthdate) > 18\""
    )
    only_error(
        load(text),
        at(text, "birthdate"),
        "if: unknown name 'birthdate'",
        "did you mean 'birth_date'?",
    )


def test_an_unknown_function_points_at_the_call(load: Loader) -> None:
    text = variant("unit: amount_of(kind)", "unit: amountof(kind)")
    only_error(
        load(text),
        at(text, "amountof"),
        "unit: unknown function 'amountof'",
        "did you mean 'amount_of'?",
    )


def test_a_comparison_of_text_with_a_number_points_at_the_comparison(load: Loader) -> None:
    text = variant("if: \"purpose != 'pension'\"", 'if: "purpose > 3"')
    only_error(
        load(text),
        at(text, "purpose > 3"),
        "if: cannot compare text with a number",
    )


def test_an_item_field_is_unknown_outside_its_repeating_page(load: Loader) -> None:
    text = variant("quantity: copies", "quantity: count")
    only_error(load(text), at(text, "count", nth=0), "quantity: unknown name 'count'")


def test_amount_of_needs_a_choice_field(load: Loader) -> None:
    text = variant("unit: amount_of(kind)", "unit: amount_of(count)")
    only_error(
        load(text), at(text, "count)"), "amount_of() needs a choice field, 'count' is not one"
    )


# --- the workflow graph -----------------------------------------------------------


PAY = variant(
    "  when: before_submit",
    "  when: after_approval",
    variant(
        "    approval: {label: {ja: 決裁, en: Approval}, queue: supervisor}\n",
        "    approval: {label: {ja: 決裁, en: Approval}, queue: supervisor}\n"
        "    payment: {label: {ja: 支払待ち, en: Awaiting payment}, with: applicant, pay: true}\n",
        variant(
            "{action: approve, from: approval, to: issued, by: supervisor, document: decision}",
            "{action: approve, from: approval, to: payment, by: supervisor, document: decision}\n"
            "    - {action: paid, from: payment, to: issued, by: system, on: paid}",
        ),
    ),
)


def test_payment_after_approval_loads(load: Loader) -> None:
    result = load(PAY)
    assert result.diagnostics == []
    assert result.procedure is not None
    assert result.procedure.workflow.states["payment"].pay
    [paid] = result.procedure.transition("paid")
    assert (paid.on, paid.by) == ("paid", ("system",))
    # "*" covers the pay state too.
    [withdraw] = result.procedure.transition("withdraw")
    assert "payment" in withdraw.from_


def test_a_pay_state_with_no_on_paid_way_out_is_refused_at_the_state(load: Loader) -> None:
    text = variant(
        "{action: paid, from: payment, to: issued, by: system, on: paid}",
        "{action: confirm, from: payment, to: issued, by: clerk}",
        PAY,
    )
    only_error(
        load(text),
        at(text, "payment: {label"),
        "state 'payment' has pay: true but no transition with on: paid leaves it",
    )


def test_on_paid_from_a_state_that_is_not_a_pay_state_is_refused(load: Loader) -> None:
    text = variant("{action: paid, from: payment,", "{action: paid, from: approval,", PAY)
    result = load(text)
    error_at(
        result,
        at(text, "{action: paid"),
        "on: paid leaves state 'approval', which is not a pay: true state",
    )
    error_at(result, at(text, "payment: {label"), "no transition with on: paid")


def test_a_state_not_reachable_from_initial_is_refused_at_the_state(load: Loader) -> None:
    text = variant(
        "    issued:",
        "    archived: {label: {ja: 保管, en: Archived}, queue: clerk}\n    issued:",
    )
    text = variant(
        "  transitions:\n",
        "  transitions:\n    - {action: close, from: archived, to: issued, by: clerk}\n",
        text,
    )
    only_error(
        load(text),
        at(text, "archived: {label"),
        "state 'archived' cannot be reached from the initial state 'received'",
    )


def test_an_unreachable_state_written_in_block_style_is_reported_at_its_name(load: Loader) -> None:
    text = variant(
        "    issued:",
        "    archived:\n      label: {ja: 保管, en: Archived}\n      queue: clerk\n    issued:",
    )
    text = variant(
        "  transitions:\n",
        "  transitions:\n    - {action: close, from: archived, to: issued, by: clerk}\n",
        text,
    )
    # The state is named on line 65; its label is on line 66.
    assert at(text, "archived:") == "p.yaml:65:5"
    only_error(load(text), "p.yaml:65:5", "state 'archived' cannot be reached")


def test_a_non_final_state_with_no_way_out_is_refused_at_the_state(load: Loader) -> None:
    text = variant(
        "    issued:",
        "    parked: {label: {ja: 保留, en: Parked}, queue: supervisor}\n    issued:",
    )
    text = variant(
        "  transitions:\n",
        "  transitions:\n    - {action: park, from: approval, to: parked, by: supervisor}\n",
        text,
    )
    # `withdraw: from "*"` would be a way out of it: take it away.
    text = variant('{action: withdraw, from: "*",', "{action: withdraw, from: correction,", text)
    only_error(
        load(text),
        at(text, "parked: {label"),
        "state 'parked' is not final and has no way out",
    )


def test_a_cycle_with_no_way_to_a_final_state_is_refused_at_each_of_its_states(
    load: Loader,
) -> None:
    text = variant(
        "    issued:",
        "    ping: {label: {ja: 照会, en: Ping}, queue: clerk}\n"
        "    pong: {label: {ja: 回答, en: Pong}, queue: supervisor}\n"
        "    issued:",
    )
    text = variant(
        "  transitions:\n",
        "  transitions:\n"
        "    - {action: ask, from: approval, to: ping, by: supervisor}\n"
        "    - {action: answer, from: ping, to: pong, by: clerk}\n"
        "    - {action: ask_again, from: pong, to: ping, by: supervisor}\n",
        text,
    )
    # `withdraw: from "*"` would be a way out of the cycle: take it away.
    text = variant('{action: withdraw, from: "*",', "{action: withdraw, from: correction,", text)
    result = load(text)
    error_at(result, at(text, "ping: {label"), "no final state can be reached from state 'ping'")
    error_at(result, at(text, "pong: {label"), "no final state can be reached from state 'pong'")
    assert len(result.errors) == 2
    assert result.procedure is None


def test_a_final_state_with_a_way_out_is_refused_at_the_transition(load: Loader) -> None:
    text = variant(
        "  transitions:\n",
        "  transitions:\n    - {action: reopen, from: issued, to: received, by: supervisor}\n",
    )
    only_error(
        load(text),
        at(text, "{action: reopen"),
        "final state 'issued' has a way out (action 'reopen')",
    )


def test_a_system_transition_needs_a_timer_or_an_event(load: Loader) -> None:
    text = variant(
        "{action: resubmit, from: correction, to: received, by: applicant}",
        "{action: resubmit, from: correction, to: received, by: system}",
    )
    only_error(load(text), at(text, "by: system"), "needs on: paid or an after: timer")


def test_a_timer_is_accepted_only_on_a_system_transition(load: Loader) -> None:
    good = variant(
        "  transitions:\n",
        "  transitions:\n"
        "    - {action: expire, from: correction, to: withdrawn, by: system,"
        " after: {business_days: 30}}\n",
    )
    result = load(good)
    assert result.errors == []
    assert result.procedure is not None
    [expire] = result.procedure.transition("expire")
    assert expire.after is not None
    assert (expire.after.days, expire.after.business_days) == (0, 30)
    bad = variant("by: system,", "by: clerk,", good)
    only_error(load(bad), at(bad, "after:"), "a transition with after: must be by: system")


# --- many mistakes, one run ---------------------------------------------------------


def test_every_mistake_of_a_file_is_reported_in_file_order(load: Loader) -> None:
    text = BASE
    for old, new in [
        ("version: 3", "version: three"),
        (
            "        required: true\n      - id: postal_code",
            "        requird: true\n      - id: postal_code",
        ),
        ("type: postal_code", "type: postalcode"),
        ('show_if: "copies > 1"', 'show_if: "copis > 1"'),
        ("queue: supervisor}", "queue: approver}"),
        ("edit: [items]", "edit: [item]"),
        ("template: decision.html", "template: nowhere.html"),
    ]:
        text = variant(old, new, text)
    result = load(text)
    assert result.procedure is None
    expected = [
        ("p.yaml:2:10", "version must be a whole number"),
        (at(text, "requird"), "unknown key 'requird'"),
        (at(text, "postalcode"), "unknown field type 'postalcode'"),
        (at(text, "copis"), "unknown name 'copis'"),
        (at(text, "approver"), "queue names an unknown role 'approver'"),
        (at(text, "item]"), "edit names an unknown page 'item'"),
        (at(text, "nowhere.html"), "template 'nowhere.html' not found"),
    ]
    for where, words in expected:
        error_at(result, where, words)
    lines = [d.location.line for d in result.diagnostics]
    assert lines == sorted(lines)


# --- the contract's own examples ----------------------------------------------------

CONTRACT = textwrap.dedent(
    """\
    procedure: juminhyo-copy          # id, unique in the catalogue
    version: 3                        # integer; bump to publish a change
    title: {ja: 住民票の写しの交付請求, en: Request for a copy of the residence certificate}
    summary: {ja: 住民票の写しを郵送で受け取ります, en: Receive copies by post}
    category: 戸籍・住民票              # optional localized text, groups the catalogue
    office: by_address                # by_address | an office id from offices.yaml
    route_by: postal_code             # with by_address: the postal_code field that picks the ward
    standard_processing_days: 5       # business days (Administrative Procedure Act art. 6)
    retention_years: 5                # purge this many years after a final state
    applicant:
      login: required                 # required | optional (guest filing with a verified email)
      identity: my_number_card        # none | my_number_card
      proxy: allowed                  # forbidden | allowed
    sign: applicant                   # optional: the applicant e-signs the submission
    declaration: {ja: 上記のとおり請求します。, en: I make this request as stated above.}
    fee:
      when: before_submit             # before_submit | after_approval
      methods: [card, konbini, qr, payeasy]
      lines:
        - label: {ja: 住民票の写し, en: Certificate copy}
          unit: 300                   # yen, integer, or an expression
          quantity: copies            # expression; default 1
          if: "purpose != 'pension'"  # optional
        - label: 粗大ごみ処理手数料
          each: items                 # one line per item of a repeating page
          unit: amount_of(kind)       # the amount of the chosen option
          quantity: count
    pages:
      - id: applicant
        title: {ja: 請求者, en: Applicant}
        fields:
          - id: name
            type: text
            label: {ja: 氏名, en: Full name}
            hint: {ja: 戸籍上の氏名, en: As registered}   # optional
            required: true                              # default false
            max_length: 40
            prefill: identity.name                      # identity.name | identity.address | ...
          - id: postal_code
            type: postal_code
            label: {ja: 郵便番号, en: Postal code}
            required: true
            prefill: identity.postal_code
      - id: request
        title: {ja: 請求内容, en: Request}
        fields:
          - id: copies
            type: integer
            label: {ja: 通数, en: Copies}
            required: true
            min: 1
            max: 10
          - id: purpose
            type: choice
            label: {ja: 使用目的, en: Purpose}
            style: radio
            choices:
              - {value: pension, label: {ja: 年金, en: Pension}}
              - {value: other, label: {ja: その他, en: Other}}
      - id: items
        title: 品目
        repeat: {min: 1, max: 10}                       # a repeating group
        show_if: "copies > 1"                           # a page can be skipped as a whole
        fields:
          - id: kind
            type: choice
            label: {ja: 品目, en: Item}
            choices:
              - {value: sofa, label: {ja: ソファ, en: Sofa}, amount: 1000}
              - {value: desk, label: {ja: 机, en: Desk}, amount: 400}
          - {id: count, type: integer, label: {ja: 個数, en: Count}, min: 1}
    workflow:
      roles: [clerk, supervisor]      # staff roles; `applicant` and `system` always exist
      initial: received               # the state a filed application enters
      states:
        received:   {label: {ja: 受付, en: Received}, queue: clerk}
        reviewing:  {label: {ja: 審査中, en: Under review}, queue: clerk}
        correction: {label: {ja: 補正依頼中, en: Correction requested}, with: applicant}
        approval:   {label: {ja: 決裁待ち, en: Awaiting approval}, queue: supervisor}
        issued:     {label: {ja: 交付済, en: Issued}, final: true, outcome: approved}
        rejected:   {label: {ja: 却下, en: Rejected}, final: true, outcome: rejected}
        withdrawn:  {label: {ja: 取下げ, en: Withdrawn}, final: true, outcome: withdrawn}
      transitions:
        - {action: start_review, from: received, to: reviewing, by: clerk}
        - action: request_correction
          label: {ja: 補正を依頼, en: Request correction}
          from: reviewing
          to: correction
          by: clerk
          comment: required           # required | optional (default) | none
          edit: [request]             # the pages the applicant may change while correcting
          notify: applicant
        - {action: resubmit, from: correction, to: reviewing, by: applicant}
        - {action: recommend, from: reviewing, to: approval, by: clerk, if: "copies <= 10"}
        - action: approve
          from: approval
          to: issued
          by: supervisor
          sign: true                  # the actor e-signs; the decision PDF carries the signature
          document: decision
          fields:                     # extra inputs the actor fills, same syntax as page fields
            - {id: decision_no, type: text, label: 決定番号, required: true}
        - action: reject
          from: [reviewing, approval]
          to: rejected
          by: [clerk, supervisor]
          comment: required
          document: rejection
          notify: applicant
        - {action: send_back, from: approval, to: reviewing, by: supervisor, comment: required}
        - {action: withdraw, from: [received, reviewing, correction], to: withdrawn, by: applicant}
        - {action: expire, from: correction, to: withdrawn, by: system, after: {business_days: 30}}
    documents:
      decision:  {title: {ja: 交付決定通知書, en: Notice of decision}, template: decision.html}
      rejection: {title: {ja: 却下通知書, en: Notice of rejection}, template: rejection.html}
    """
)

# The contract's payment snippet: the fee is paid after approval, in a pay: true state.
CONTRACT_PAY = variant(
    "  when: before_submit             # before_submit | after_approval",
    "  when: after_approval",
    variant(
        "    issued:     {label:",
        "    payment: {label: {ja: 支払待ち, en: Awaiting payment}, with: applicant, pay: true}\n"
        "    issued:     {label:",
        variant(
            "      to: issued\n      by: supervisor",
            "      to: payment\n      by: supervisor",
            variant(
                "    - {action: send_back,",
                "    - {action: paid, from: payment, to: issued, by: system, on: paid}\n"
                "    - {action: send_back,",
                CONTRACT,
            ),
        ),
    ),
)


@pytest.mark.parametrize("text", [CONTRACT, CONTRACT_PAY], ids=["before_submit", "after_approval"])
def test_a_file_made_of_the_contracts_examples_loads_cleanly(
    tmp_path: Path, offices: dict[str, Office], text: str
) -> None:
    for name in ("decision.html", "rejection.html"):
        (tmp_path / name).write_text("<p>{{ decision_no }}</p>", encoding="utf-8")
    path = tmp_path / "juminhyo-copy.yaml"
    path.write_text(text, encoding="utf-8")
    result = load_procedure_file(path, field_types=REGISTRY, offices=offices, template_dirs=[])
    assert result.diagnostics == [], "\n".join(map(str, result.diagnostics))
    procedure = result.procedure
    assert procedure is not None
    assert procedure.id == "juminhyo-copy"
    assert procedure.applicant.identity == "my_number_card"
    assert procedure.applicant.proxy == "allowed"
    assert procedure.sign == "applicant"
    assert procedure.category is not None
    assert procedure.category.get("en") == "戸籍・住民票"
    assert procedure.field("name").prefill == "identity.name"
    assert procedure.field("purpose").option("style") == "radio"
    [approve] = procedure.transition("approve")
    assert approve.sign is True
    assert [f.id for f in approve.fields] == ["decision_no"]
    assert approve.fields[0].required
    [correct] = procedure.transition("request_correction")
    assert correct.comment == "required"
    assert correct.edit == ("request",)
    assert correct.notify == ("applicant",)
    assert correct.display_label("en") == "Request correction"
    assert {d: doc.template_path for d, doc in procedure.documents.items()} == {
        "decision": str(tmp_path / "decision.html"),
        "rejection": str(tmp_path / "rejection.html"),
    }


# --- stricter rules: fee amounts, routing, reserved pages, numbers -----------


def test_a_fee_unit_that_is_text_is_refused_at_check_time(load: Loader) -> None:
    text = variant("unit: 300", "unit: \"'three hundred'\"")
    only_error(load(text), at(text, "\"'three hundred'\""), "unit must compute a number", "string")


def test_a_fee_quantity_that_is_a_date_is_refused(load: Loader) -> None:
    text = variant("quantity: copies", "quantity: birth_date")
    only_error(load(text), at(text, "birth_date", 0), "quantity must compute a number", "date")


def test_a_negative_fee_unit_is_refused(load: Loader) -> None:
    text = variant("unit: 300", "unit: -300")
    error_at(load(text), at(text, "-300"), "unit must not be negative")


def test_route_by_field_must_be_required(load: Loader) -> None:
    text = variant(
        "label: {ja: 郵便番号, en: Postal code}\n        required: true",
        "label: {ja: 郵便番号, en: Postal code}",
    )
    only_error(load(text), "p.yaml:5:11", "must be required: true and always shown")


def test_the_proxy_page_id_is_reserved_when_proxies_may_file(load: Loader) -> None:
    text = variant("retention_years: 5\n", "retention_years: 5\napplicant: {proxy: allowed}\n")
    text = variant("  - id: applicant\n", "  - id: filing-for\n", text)
    error_at(load(text), at(text, "id: filing-for"), "reserved for the built-in proxy page")


def test_prefill_without_the_card_identity_is_a_warning(load: Loader) -> None:
    text = variant(
        "label: {ja: 氏名, en: Full name}\n",
        "label: {ja: 氏名, en: Full name}\n        prefill: identity.name\n",
    )
    result = load(text)
    assert result.errors == []
    assert any("prefill" in w.message and w.severity == "warning" for w in result.diagnostics)


def test_numbers_follow_yaml_1_2(load: Loader) -> None:
    """`0123` is 123, not octal 83; `9:00` stays text."""
    text = variant("version: 3", "version: 0123")
    result = load(text)
    assert result.procedure is not None
    assert result.procedure.version == 123
    choice = variant("{value: other, label:", "{value: 9:00, label:")
    loaded = load(choice).procedure
    assert loaded is not None
    assert [c.value for c in loaded.field("purpose").choices] == ["pension", "9:00"]
