"""The rule registry: rule names → classes, and building the rules a rulebook enables.

The registry is the one list of rules; the rulebook validates ``rules.enabled`` against it
and :func:`build_rules` configures each enabled class from its rulebook section, field by
field, because every keyword-only parameter of a rule is named after a field of its section.
Rules are built in registry order so that, when several rules look at the same event, they
run (and raise their alerts) in the same order on every run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.rules.base import Rule, RuleContext
from engine.rules.collusion import Art40Rule, DaqingRule, FujianRule, SameIpRule
from engine.rules.collusion_parties import (
    AgentPairingRule,
    CardRule,
    DebarredPartyRule,
    ExpertDeviationRule,
    ExpertPairingRule,
)
from engine.rules.collusion_rings import RingRule
from engine.rules.collusion_screens import PricePatternRule, ScreenRule
from engine.rules.deadline import DeadlineOverdue, DeadlineSevere, DeadlineWarning, StepOverdue
from engine.rules.discipline import AbsenceRule, CameraOfflineRule, EmptyWindowRule
from engine.rules.discipline_capacity import CapacityRule
from engine.rules.discipline_conduct import (
    BlueCardRule,
    DisputeRule,
    EarlyDepartureRule,
    LateArrivalRule,
    RedCardRule,
    YellowCardRule,
)
from engine.rules.escalation import DepartmentRepeat
from engine.rules.logic import (
    Backdated,
    CertificateWithoutApproval,
    DecisionBeforeAcceptance,
    ExcessFee,
    IllegalSuspension,
    SamePersonAcceptApprove,
    SkippedStep,
    StepsOutOfOrder,
    UnauthorisedApproval,
)

if TYPE_CHECKING:
    from engine.rulebook import Rulebook

__all__ = [
    "COLLUSION_RULE_NAMES",
    "DISCIPLINE_RULE_NAMES",
    "LOGIC_RULE_NAMES",
    "REGISTRY",
    "RULE_NAMES",
    "Rule",
    "RuleContext",
    "build_rules",
    "rule_class",
]

REGISTRY: dict[str, type[Rule]] = {
    cls.name: cls
    for cls in (
        DeadlineWarning,
        DeadlineOverdue,
        DeadlineSevere,
        StepOverdue,
        DepartmentRepeat,
        SkippedStep,
        StepsOutOfOrder,
        DecisionBeforeAcceptance,
        CertificateWithoutApproval,
        ExcessFee,
        UnauthorisedApproval,
        SamePersonAcceptApprove,
        Backdated,
        IllegalSuspension,
        Art40Rule,
        FujianRule,
        DaqingRule,
        SameIpRule,
        PricePatternRule,
        ScreenRule,
        ExpertDeviationRule,
        ExpertPairingRule,
        AgentPairingRule,
        CardRule,
        DebarredPartyRule,
        RingRule,
        AbsenceRule,
        CameraOfflineRule,
        EmptyWindowRule,
        CapacityRule,
        LateArrivalRule,
        EarlyDepartureRule,
        DisputeRule,
        BlueCardRule,
        YellowCardRule,
        RedCardRule,
    )
}

RULE_NAMES: tuple[str, ...] = tuple(REGISTRY)
LOGIC_RULE_NAMES: tuple[str, ...] = tuple(n for n in RULE_NAMES if n.startswith("logic."))
COLLUSION_RULE_NAMES: tuple[str, ...] = tuple(n for n in RULE_NAMES if n.startswith("collusion."))
DISCIPLINE_RULE_NAMES: tuple[str, ...] = tuple(n for n in RULE_NAMES if n.startswith("discipline."))


def rule_class(name: str) -> type[Rule]:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown rule {name!r} (known: {', '.join(RULE_NAMES)})") from None


def build_rules(rulebook: Rulebook) -> list[Rule]:
    """Unbound rule instances for ``rulebook.rules.enabled``, in registry order."""
    enabled = set(rulebook.rules.enabled)
    rules: list[Rule] = []
    for name, cls in REGISTRY.items():
        if name not in enabled:
            continue
        params = {}
        if cls.section is not None:
            section = getattr(rulebook.rules, cls.section)
            params = {p: getattr(section, p) for p in cls.param_names()}
        rules.append(cls(**params))
    return rules
