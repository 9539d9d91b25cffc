"""The rule registry: rule names → classes, in the order rules run.

Registering a rule is one line, the ``@register`` decorator above its class. The registry's
order is the order of registration: the order in which :mod:`engine.rules.builtin` imports the
family packages, each package its modules, and each module defines its classes. That order is
the run order: when several rules look at the same event they run (and raise their alerts) in
registry order, the same on every run. Where order matters beyond that (rules that judge whole
histories speak at :meth:`~engine.rules.base.Rule.finish_one` after every event; escalation
rules see alerts through :meth:`~engine.rules.base.Rule.alert_one`), the rule says so itself.

The rulebook's sections are derived from the registered classes (:mod:`engine.rules.rulebook`),
so a rule defined anywhere, a test module included, is configurable as soon as it is registered;
:func:`unregister` takes it out again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from engine.rules.base import Rule

__all__ = ["REGISTRY", "register", "registry_version", "rule_class", "unregister"]

R = TypeVar("R", bound="type[Rule]")

#: Rule name → class, in registration (= run) order.
REGISTRY: dict[str, type[Rule]] = {}
_VERSION = [0]  # bumped on every change, so derived types (rulebook sections) know to rebuild


def register(cls: R) -> R:
    """Add ``cls`` under its ``name``; a name registered twice is an error."""
    name = cls.name
    if not name:
        raise ValueError(f"{cls.__qualname__} has no rule name")
    if name in REGISTRY and REGISTRY[name] is not cls:
        raise ValueError(
            f"rule name {name!r} is registered twice ({REGISTRY[name].__qualname__}, {cls.__qualname__})"
        )
    REGISTRY[name] = cls
    _VERSION[0] += 1
    return cls


def unregister(name: str) -> None:
    """Remove a rule (for throwaway rules in tests); unknown names are ignored."""
    if REGISTRY.pop(name, None) is not None:
        _VERSION[0] += 1


def registry_version() -> int:
    return _VERSION[0]


def rule_class(name: str) -> type[Rule]:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown rule {name!r} (known: {', '.join(REGISTRY)})") from None
