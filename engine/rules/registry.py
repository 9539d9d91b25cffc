"""The rule registry: rule names → classes, in the order rules run.

Rules are listed in one tuple because the order matters: when several rules look at the same
event they run (and raise their alerts) in registry order, the same on every run.
"""

from __future__ import annotations

from engine.rules.approvals.deadline import DeadlineOverdue, DeadlineSevere, DeadlineWarning, StepOverdue
from engine.rules.approvals.escalation import DepartmentRepeat
from engine.rules.approvals.logic import (
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
from engine.rules.base import Rule, RuleContext
from engine.rules.collusion.parties import (
    AgentPairingRule,
    CardRule,
    DebarredPartyRule,
    ExpertDeviationRule,
    ExpertPairingRule,
)
from engine.rules.collusion.rings import RingRule
from engine.rules.collusion.screens import PricePatternRule, ScreenRule
from engine.rules.collusion.traces import Art40Rule, DaqingRule, FujianRule, SameIpRule
from engine.rules.discipline.capacity import CapacityRule
from engine.rules.discipline.conduct import (
    BlueCardRule,
    DisputeRule,
    EarlyDepartureRule,
    LateArrivalRule,
    RedCardRule,
    YellowCardRule,
)
from engine.rules.discipline.presence import AbsenceRule, CameraOfflineRule, EmptyWindowRule

__all__ = [
    "COLLUSION_RULE_NAMES",
    "DISCIPLINE_RULE_NAMES",
    "LOGIC_RULE_NAMES",
    "REGISTRY",
    "RULE_NAMES",
    "Rule",
    "RuleContext",
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
