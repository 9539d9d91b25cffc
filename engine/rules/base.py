"""The rule base class: estimator-style parameters and River-style per-event methods.

Rule designers sweep thresholds, so a rule behaves like a scikit-learn estimator: its
thresholds are keyword-only ``__init__`` parameters stored unchanged under the same names,
:meth:`Rule.get_params` / :meth:`Rule.set_params` read and change them, and
:meth:`Rule.clone` makes a fresh, unbound copy to run in another engine. Validation waits
until :meth:`Rule.bind`, as scikit-learn waits until ``fit``, so that ``get_params`` always
returns exactly what was passed.

At run time the engine calls the ``*_one`` methods (River's naming): ``check_one`` for every
applied event whose kind is in :attr:`Rule.kinds` (after the engine has updated the case
state with it), ``closed_one`` for an event of :attr:`Rule.closed_kinds` about a closed case,
``timer_one`` when one of the rule's timers fires, and ``alert_one`` for
every alert when :attr:`Rule.observes_alerts` is set. Rules talk to the engine only through
:class:`RuleContext`, which keeps them testable and keeps the runtime swappable.
"""

from __future__ import annotations

import copy
import inspect
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, NamedTuple, Protocol, Self, TypeVar

import msgspec

from engine.contract.alerts import Alert, Evidence
from engine.contract.calendar import WorkingCalendar
from engine.runtime.cases import CaseState
from engine.runtime.catalogue import Catalogue, ItemInfo
from engine.runtime.timers import TimerKey

__all__ = ["Param", "Rule", "RuleContext", "param_specs"]

F = TypeVar("F")


class RuleContext(Protocol):
    """What a bound rule may use from the engine."""

    calendar: WorkingCalendar
    catalogue: Catalogue
    day_seconds: float

    def emit(
        self,
        rule: Rule,
        subject: str,
        when: datetime,
        *,
        hall_id: str | None,
        department_id: str | None,
        staff_id: str | None,
        evidence: Evidence,
        discriminator: str = "",
    ) -> Alert | None:
        """Raise an alert; returns None when this (rule, subject, discriminator) already fired."""
        ...

    def has_alerted(self, rule: Rule, subject: str, discriminator: str = "") -> bool: ...

    def wake(self, rule: Rule) -> None:
        """From now on, pass ``rule`` the events of its ``dormant_kinds`` too (idempotent).

        Takes effect from the next event applied, including later events of the batch
        being applied."""
        ...

    def schedule(self, key: TimerKey, index: float, group: list[TimerKey] | None, /) -> None:
        """Arm ``key`` for the latest instant whose calendar index is ``index``; it fires
        once the watermark is past that instant, and ``timer_one`` gets the instant.
        ``group``: pass the case's ``timer_keys``, so that its timers are cancelled when it
        closes."""
        ...

    def cancel(self, key: TimerKey) -> None: ...

    def to_index(self, t: datetime) -> float: ...

    def watch_silence(
        self,
        threshold: float,
        sources: tuple[str, ...],
        on_silent: Callable[[str, datetime, datetime, Any], None],
    ) -> None:
        """Call ``on_silent(source, since, when, last_event)`` once per episode in which a source
        matching ``sources`` (fnmatch patterns) has had no record for ``threshold`` working
        seconds of the stream's time (:mod:`engine.runtime.sources`)."""
        ...

    def family(self, kind: type[F], make: Callable[[], F]) -> F:
        """The engine's one state family of type ``kind``, made by ``make()`` on first use.

        A family (the hall floor, a queue feed...) is state several rules share; the engine
        applies the events of its ``event_types`` to it before the rules watching them run.
        """
        ...


class Param(NamedTuple):
    """One threshold of a rule: its name, its type with constraints and description, its default."""

    name: str
    annotation: Any
    default: Any


def param_specs(cls: type) -> tuple[Param, ...]:
    """The keyword-only ``__init__`` parameters of ``cls`` with their resolved annotations.

    The annotations carry the constraints and the description (``Annotated[float,
    Meta(ge=0, description=...)]``), so the signature is the one source of a threshold's type,
    bounds, default and documentation; the rulebook section and its YAML are derived from it.
    """
    specs = _SPECS.get(cls)
    if specs is None:
        init = next(c.__dict__["__init__"] for c in cls.__mro__ if "__init__" in c.__dict__)
        hints = typing.get_type_hints(init, include_extras=True)
        sig = inspect.signature(init)
        specs = tuple(
            Param(p.name, hints.get(p.name, Any), p.default)
            for p in sig.parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        )
        _SPECS[cls] = specs
    return specs


_SPECS: dict[type, tuple[Param, ...]] = {}
_CHECKERS: dict[type, type[msgspec.Struct]] = {}


def _checker(cls: type) -> type[msgspec.Struct]:
    """A Struct of the rule's parameters, to check values against their declared constraints."""
    checker = _CHECKERS.get(cls)
    if checker is None:
        checker = msgspec.defstruct(
            f"{cls.__name__}Params",
            [(p.name, p.annotation) for p in param_specs(cls)],
            kw_only=True,
            forbid_unknown_fields=True,
        )
        _CHECKERS[cls] = checker
    return checker


_PARAMS: dict[type, tuple[str, ...]] = {}


class Rule:
    """Base class of every rule; subclasses set the class attributes and override ``*_one``."""

    #: Rule name, also the ``rule`` field of its alerts (``deadline.overdue``...).
    name: ClassVar[str] = ""
    #: Level of the alerts this rule raises.
    level: ClassVar[str] = "warning"
    #: Rulebook section (under ``rules``) whose fields of the same names configure it.
    section: ClassVar[str | None] = None
    #: Event kinds (``kind`` tags) passed to :meth:`check_one`.
    kinds: ClassVar[tuple[str, ...]] = ()
    #: Kinds passed to :meth:`check_one` only once the rule has called ``ctx.wake(self)``:
    #: events that mean something to the rule only when the stream carries something else
    #: (the capacity rule reads case events only in halls with a roster or queue tickets).
    #: Until then they cost the rule nothing, not even a call: rule families are gated by
    #: what the stream carries.
    dormant_kinds: ClassVar[tuple[str, ...]] = ()
    #: Kinds passed to :meth:`closed_one` when they are about a case already closed: the
    #: engine does not apply them (they go to the side output as ``after_close``), but a
    #: record typed in after the closing can still clear a verdict the rule holds back.
    closed_kinds: ClassVar[tuple[str, ...]] = ()
    #: Whether :meth:`alert_one` should see every alert the engine raises.
    observes_alerts: ClassVar[bool] = False
    #: Whose state this rule's timers are about: None for an approval case (the key's id is a
    #: case id); else a state family type (see ``RuleContext.family``) whose
    #: ``timer_state(id)`` returns the state :meth:`timer_one` gets, or None when it is gone.
    timer_family: ClassVar[type | None] = None
    #: Whether the default rulebook enables the rule. An opt-in rule (``False``) is
    #: configurable and can be enabled by name, but a rulebook that does not name it runs as
    #: if it did not exist, and the generated default file leaves its section out.
    enabled_by_default: ClassVar[bool] = True

    ctx: RuleContext
    #: The catalogue's items, looked up once at :meth:`bind` (every item-aware check reads it).
    _items: dict[str, ItemInfo]

    def __init__(self) -> None:
        """Rules without thresholds take no parameters (subclasses add keyword-only ones)."""

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        """The keyword-only parameters of ``__init__``, in declaration order."""
        names = _PARAMS.get(cls)
        if names is None:
            names = tuple(p.name for p in param_specs(cls))
            _PARAMS[cls] = names
        return names

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params: Any) -> Self:
        valid = self.param_names()
        for name in params:
            if name not in valid:
                raise ValueError(
                    f"{type(self).__name__}.set_params: unknown parameter {name!r} "
                    f"(valid: {', '.join(valid) or 'none'})"
                )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def clone(self) -> Self:
        """An unbound copy with deep-copied parameters and fresh state."""
        return type(self)(**copy.deepcopy(self.get_params()))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # --- life cycle -----------------------------------------------------------------

    def bind(self, ctx: RuleContext) -> None:
        """Attach to an engine: validate the parameters and reset run-time state."""
        self.ctx = ctx
        self._items = ctx.catalogue.items
        self.validate()
        self.reset()

    def validate(self) -> None:
        """Raise ``ValueError`` for unusable parameter values (called by :meth:`bind`).

        Checks every value against the type and bounds its signature declares; a rule adds
        what one parameter's type cannot say (relations between parameters).
        """
        try:
            msgspec.convert(self.get_params(), type=_checker(type(self)))
        except msgspec.ValidationError as exc:
            raise ValueError(f"{self.name}: {exc}") from None

    def reset(self) -> None:
        """Clear run-time state (called by :meth:`bind`)."""

    # --- per-event methods ----------------------------------------------------------

    def check_one(self, event: Any, case: CaseState) -> None:
        """Look at one applied event of a watched kind, with its case state already updated."""

    def closed_one(self, event: Any) -> None:
        """Read one event of a ``closed_kinds`` kind about a closed case (not applied)."""

    def timer_one(self, case: Any, key: TimerKey, when: datetime) -> None:
        """One of this rule's timers fired at ``when`` for an open ``case`` (or its
        :attr:`timer_family`'s state)."""

    def alert_one(self, alert: Alert) -> None:
        """Another alert was raised (only when :attr:`observes_alerts`)."""

    # --- helpers for subclasses -----------------------------------------------------

    def item_of(self, case: CaseState) -> ItemInfo | None:
        item_id = case.item_id
        return None if item_id is None else self._items.get(item_id)

    def emit_case(
        self,
        case: CaseState,
        when: datetime,
        *,
        staff_id: str | None,
        evidence: Evidence,
        discriminator: str = "",
    ) -> Alert | None:
        return self.ctx.emit(
            self,
            case.subject,
            when,
            hall_id=case.hall_id,
            department_id=case.department_id,
            staff_id=staff_id,
            evidence=evidence,
            discriminator=discriminator,
        )
