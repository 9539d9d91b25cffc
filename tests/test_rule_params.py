"""Rules as estimators, and the rulebook that configures them."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from engine.rules import REGISTRY, RULE_NAMES, Rule, build_rules, rule_class
from engine.rules.rulebook import (
    Rulebook,
    RulebookError,
    decode_rulebook,
    load_rulebook,
    rulebook_json_schema,
)

DEFAULT_YAML = Path(__file__).resolve().parents[1] / "scenarios" / "rulebooks" / "default.yaml"
RULES = sorted(REGISTRY.items())


def _kw_only(cls: type[Rule]) -> list[inspect.Parameter]:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [p for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]


@pytest.mark.parametrize(("name", "cls"), RULES)
def test_get_params_are_the_keyword_only_init_parameters(name: str, cls: type[Rule]) -> None:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params), "thresholds must be keyword-only"
    rule = cls()
    assert list(rule.get_params()) == [p.name for p in params]
    assert rule.get_params() == {p.name: p.default for p in params}
    assert cls.name == name and cls.level in {"warning", "yellow", "red"}


@pytest.mark.parametrize(("name", "cls"), RULES)
def test_values_are_stored_unchanged(name: str, cls: type[Rule]) -> None:
    sentinels = {p.name: object() for p in _kw_only(cls)}
    rule = cls(**sentinels)  # no validation in __init__, as with scikit-learn
    got = rule.get_params()
    assert got.keys() == sentinels.keys()
    assert all(got[k] is v for k, v in sentinels.items())


@pytest.mark.parametrize(("name", "cls"), RULES)
def test_clone_round_trips_and_is_independent(name: str, cls: type[Rule]) -> None:
    values = {p.name: [p.default] for p in _kw_only(cls)}  # mutable values show sharing
    rule = cls(**values)
    twin = rule.clone()
    assert type(twin) is cls and twin is not rule
    assert twin.get_params() == rule.get_params()
    for k in values:
        assert twin.get_params()[k] is not values[k]
        twin.get_params()[k].append("changed")
    assert rule.get_params() == {p.name: [p.default] for p in _kw_only(cls)}


@pytest.mark.parametrize(("name", "cls"), RULES)
def test_set_params_returns_self_and_rejects_unknown_names(name: str, cls: type[Rule]) -> None:
    rule = cls()
    for p in _kw_only(cls):
        marker = object()
        assert rule.set_params(**{p.name: marker}) is rule
        assert rule.get_params()[p.name] is marker
    with pytest.raises(ValueError, match="unknown parameter 'no_such_threshold'"):
        rule.set_params(no_such_threshold=1)


@pytest.mark.parametrize(("name", "cls"), RULES)
def test_every_parameter_is_a_field_of_the_rule_section_with_the_same_default(
    name: str, cls: type[Rule]
) -> None:
    params = _kw_only(cls)
    if not params:
        assert cls.section is None
        return
    assert cls.section is not None
    section = getattr(Rulebook.default().rules, cls.section)
    for p in params:
        assert getattr(section, p.name) == p.default


def test_build_rules_takes_parameters_from_the_rulebook() -> None:
    rb = decode_rulebook("rules: {deadline: {severe_overdue_days: 8}, fee: {epsilon: 0.5}}")
    rules = {r.name: r for r in build_rules(rb)}
    assert [r.name for r in build_rules(rb)] == [n for n in RULE_NAMES if REGISTRY[n].enabled_by_default]
    assert rules["deadline.severe"].get_params() == {"severe_overdue_days": 8.0, "instant_limit_days": 1.0}
    assert rules["logic.excess_fee"].get_params() == {"epsilon": 0.5}
    only = build_rules(rb.with_enabled("logic.backdated", "deadline.overdue"))
    assert [r.name for r in only] == ["deadline.overdue", "logic.backdated"]


def test_rule_class_lookup() -> None:
    assert rule_class("deadline.overdue").level == "yellow"
    with pytest.raises(KeyError, match="unknown rule"):
        rule_class("deadline.nope")


def test_invalid_parameter_values_fail_when_bound() -> None:
    from engine.core import Engine

    rule = rule_class("deadline.department_repeat")(k=0)
    with pytest.raises(ValueError, match=r"deadline.department_repeat: Expected `int` >= 1 - at `\$.k`"):
        Engine(rules=[rule])


# --- the rulebook ---------------------------------------------------------------------


def test_shipped_default_rulebook_equals_the_defaults() -> None:
    assert load_rulebook(DEFAULT_YAML) == Rulebook.default()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "rules: {deadline: {warning_lead_days: soon}}",
            "`$.rules.deadline.warning_lead_days` - Expected `float`",
        ),
        ("rules: {deadline: {warning_lead_day: 1}}", "`$.rules.deadline` - Object contains unknown field"),
        ("allowed_lateness: -5", "`$.allowed_lateness` - Expected `int` >= 0"),
        (
            "rules: {enabled: [deadline.overdue, deadline.nope]}",
            "`$.rules.enabled[1]` - unknown rule 'deadline.nope'",
        ),
        (
            "rules: {enabled: [logic.backdated, logic.backdated]}",
            "`$.rules.enabled[1]` - rule 'logic.backdated' listed",
        ),
        ('calendar: {periods: [["9am", "12:00"]]}', "`$.calendar.periods[0][0]`"),
        ("scoring: {class_one_fraction: 0.5, class_two_fraction: 0.6}", "`$.scoring.class_two_fraction`"),
        ("rules: [", "`$` - malformed YAML"),
    ],
)
def test_bad_rulebooks_name_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulebookError) as info:
        load_rulebook(path)
    assert str(info.value).startswith(f"{path}: `$")
    assert message in str(info.value)


def test_missing_rulebook_file(tmp_path: Path) -> None:
    with pytest.raises(RulebookError, match="cannot read"):
        load_rulebook(tmp_path / "absent.yaml")


def test_partial_rulebook_keeps_other_defaults() -> None:
    rb = decode_rulebook("max_future: 7200")
    assert rb.max_future == 7200
    assert rb.rules == Rulebook.default().rules


def test_json_schema_is_generated() -> None:
    schema = rulebook_json_schema()
    defs = schema["$defs"]
    assert isinstance(defs, dict)
    assert "warning_lead_days" in defs["DeadlineSection"]["properties"]
    assert defs["Rulebook"]["additionalProperties"] is False


def test_every_violation_kind_has_its_rule() -> None:
    from sim.common.truth import VIOLATION_KINDS

    kind_to_rule = {
        "deadline_at_risk": ("deadline.warning", "warning"),
        "overdue": ("deadline.overdue", "yellow"),
        "severely_overdue": ("deadline.severe", "red"),
        "step_overdue": ("step.overdue", "warning"),
        "skipped_step": ("logic.skipped_step", "warning"),
        "steps_out_of_order": ("logic.steps_out_of_order", "warning"),
        "decision_before_acceptance": ("logic.decision_before_acceptance", "warning"),
        "certificate_without_approval": ("logic.certificate_without_approval", "warning"),
        "excess_fee": ("logic.excess_fee", "warning"),
        "unauthorised_approval": ("logic.unauthorised_approval", "warning"),
        "same_person_accept_approve": ("logic.same_person_accept_approve", "warning"),
        "backdated": ("logic.backdated", "warning"),
        "illegal_suspension": ("logic.illegal_suspension", "warning"),
    }
    assert set(kind_to_rule) == set(VIOLATION_KINDS)
    assert {(n, REGISTRY[n].level) for n, _ in kind_to_rule.values()} == set(kind_to_rule.values())
