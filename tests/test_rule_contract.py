"""One generic check for every rule class, and proof that a new rule needs no edit elsewhere.

:func:`check_rule` is the contract a rule keeps (as scikit-learn's ``check_estimator``): its
thresholds are keyword-only, documented and bounded in the signature, stored unchanged,
cloned independently, derived into its rulebook section with the same defaults, and, where it
has a vectorised path, equal to its streaming path. A throwaway rule defined in this module
is checked the same way and shows up in the rulebook, its schema and the default YAML.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Annotated

import msgspec
import numpy as np
import pytest
from msgspec import Meta

from engine.contract import events as ev
from engine.core import Engine
from engine.rules import REGISTRY, Rule, build_rules, register, unregister
from engine.rules.base import param_specs
from engine.rules.defaults import default_rulebook_yaml, describe
from engine.rules.rulebook import Rulebook, RulebookError, decode_rulebook, rulebook_json_schema


def check_rule(cls: type[Rule]) -> None:
    """Everything a registered rule class must satisfy; raises AssertionError otherwise."""
    sig = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in sig), (
        f"{cls.name}: thresholds must be keyword-only"
    )
    specs = param_specs(cls)
    rule = cls()
    assert rule.get_params() == {p.name: p.default for p in specs}
    for p in specs:
        assert describe(p.annotation), f"{cls.name}.{p.name} has no Meta(description=...)"
    rule.validate()  # the defaults satisfy their own bounds
    twin = rule.clone()
    assert type(twin) is cls and twin is not rule and twin.get_params() == rule.get_params()
    if specs:
        assert cls.section is not None, f"{cls.name} has thresholds but no section"
        section = getattr(Rulebook.default().rules, cls.section)
        assert {p.name: getattr(section, p.name) for p in specs} == rule.get_params()
    enabled = Rulebook.default().rules.enabled
    assert (cls.name in enabled) is cls.enabled_by_default, (
        f"{cls.name}: enabled by default or opt-in, as declared"
    )
    if not cls.enabled_by_default:  # opt-in: enabled by name, it binds and runs on an empty stream
        engine = Engine(Rulebook.default().with_enabled(*enabled, cls.name))
        assert [r.name for r in engine.rules if r.name == cls.name] == [cls.name]
        engine.process_many([])
        engine.finish()
    tags = {t.__struct_config__.tag for t in ev.EVENT_TYPES}
    assert set(cls.kinds) <= tags and set(cls.dormant_kinds) <= tags, f"{cls.name}: unknown event kinds"
    assert not set(cls.kinds) & set(cls.dormant_kinds), f"{cls.name}: a kind both watched and dormant"
    many = getattr(rule, "thresholds_many", None)
    if many is not None:  # the vectorised path equals the streaming one
        rng = np.random.default_rng(7)
        limits = rng.integers(0, 30, 200).astype(float)
        promised = rng.random(200) < 0.7
        days, limit = many(limits, promised)
        for k in range(200):
            lim = float(limit[k])
            want = None if np.isnan(lim) else rule.threshold_days(lim, bool(promised[k]))  # type: ignore[attr-defined]
            got = None if np.isnan(days[k]) else float(days[k])
            assert got == want, (cls.name, k, limits[k], promised[k])


@pytest.mark.parametrize("cls", list(REGISTRY.values()), ids=list(REGISTRY))
def test_every_registered_rule_keeps_the_contract(cls: type[Rule]) -> None:
    check_rule(cls)


Threshold = Annotated[
    int, Meta(ge=2, description="How many look-alike records make a pattern (a test rule).")
]


@pytest.fixture
def throwaway() -> Iterator[type[Rule]]:
    @register
    class Throwaway(Rule):
        """A rule that exists only in this test module."""

        name = "test.throwaway"
        section = "throwaway"
        kinds = ("case.accepted",)

        def __init__(self, *, min_records: Threshold = 3) -> None:
            self.min_records = min_records

    yield Throwaway
    unregister(Throwaway.name)


def test_a_rule_defined_elsewhere_is_configurable_without_editing_the_engine(throwaway: type[Rule]) -> None:
    check_rule(throwaway)
    assert "ThrowawaySection" in rulebook_json_schema()["$defs"]  # type: ignore[operator]
    text = default_rulebook_yaml()
    assert "source:" not in text  # an opt-in rule's section is not written
    assert (
        "  throwaway:\n    # How many look-alike records make a pattern (a test rule).\n    min_records: 3"
        in text
    )
    assert decode_rulebook(text) == Rulebook.default()
    rb = decode_rulebook("rules: {throwaway: {min_records: 5}}")
    (rule,) = [r for r in build_rules(rb) if r.name == "test.throwaway"]
    assert rule.get_params() == {"min_records": 5}
    Engine(rb)  # binds and validates
    with pytest.raises(RulebookError, match=r"`\$.rules.throwaway.min_records` - Expected `int` >= 2"):
        decode_rulebook("rules: {throwaway: {min_records: 1}}")


def test_the_registry_forgets_a_throwaway_rule() -> None:
    assert "test.throwaway" not in REGISTRY
    assert "throwaway" not in msgspec.structs.asdict(Rulebook.default().rules)


def test_a_shared_section_field_must_be_declared_alike() -> None:
    @register
    class Clash(Rule):
        name = "test.clash"
        section = "deadline"

        def __init__(
            self, *, warning_lead_days: Annotated[float, Meta(ge=0, description="a different default")] = 9.0
        ) -> None:
            self.warning_lead_days = warning_lead_days

    try:
        with pytest.raises(TypeError, match=r"declared differently by 'deadline\.warning' and 'test\.clash'"):
            Rulebook.default()
    finally:
        unregister(Clash.name)


def test_a_rule_name_is_registered_once() -> None:
    class Twin(Rule):
        name = "deadline.warning"

    with pytest.raises(ValueError, match="registered twice"):
        register(Twin)


def test_the_shipped_default_rulebook_is_the_generated_one() -> None:
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[1] / "scenarios" / "rulebooks" / "default.yaml"
    assert shipped.read_text(encoding="utf-8") == default_rulebook_yaml(), (
        "regenerate it: python -m engine.rules.defaults > scenarios/rulebooks/default.yaml"
    )


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        ('[["09:00", "08:00"]]', "`$.calendar.periods[0]` - 09:00-08:00 does not end after it starts"),
        (
            '[["13:30", "17:30"], ["09:00", "14:00"]]',
            "`$.calendar.periods[0]` - 13:30-17:30 overlaps 09:00-14:00",
        ),
    ],
)
def test_working_periods_out_of_order_name_the_file_and_period(periods: str, message: str) -> None:
    """Refused when the file is read, naming it (the calendar built later said only "rulebook")."""
    with pytest.raises(RulebookError) as err:
        decode_rulebook(f"calendar: {{periods: {periods}}}", where="my.yaml")
    assert str(err.value).startswith(f"my.yaml: {message}")
