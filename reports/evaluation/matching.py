"""Which alert found which truth episode: the one place that decides what counts as a hit.

The engine never sees the truth, so an alert is only a claim. An alert of rule ``r`` is a
*true positive* when it can be paired with a real (non look-alike) episode of the truth kind
``RULE_TO_TRUTH[r]`` about the same subject (and the same workflow step for step overdue)
whose onset lies inside the matching window around the alert's ``ts``:

* ``alert.ts >= onset - tolerance_s`` for every kind: an alert may be a little *early* only
  because of clock rounding; anything earlier is a guess, not a detection;
* ``alert.ts <= onset + tolerance_s`` for the kinds in :data:`BOUNDED_KINDS` (the deadline
  timers and the logic checks of the approval world). Their alert time is defined as the
  instant the violation starts (the timer instant, or the offending record's time), so a
  late alert is a wrong alert. Kinds outside that set (later families whose detection is
  inherently delayed) have no upper bound and their delay shows up as latency instead.

The tolerance is wall-clock seconds, because both sides compute the instant the same way
(``WorkingCalendar.deadline`` or the record's time); it only absorbs rounding.

Pairing is one-to-one and greedy: all admissible (alert, episode) pairs are sorted by the
absolute time difference, then by alert and episode identity, and taken in that order when
neither side is used yet. The order never depends on the order of the inputs, so the same
run gives the same matching. A second alert for an already matched episode is therefore a
false positive (the contract promises one alert per rule and subject).

Alerts of rules without a truth kind (``deadline.department_repeat``) are counted, not scored.

On impaired data a source system's clock may run minutes off, and the engine can only stamp an
alert with the records' own times. ``clock_shift_s`` (subject → seconds its source's clock runs
ahead, from the impairment truth) scores *on the source's clock*: an alert's time is read back
by its subject's shift before the window applies, so the right alert on the right case, stamped
on a skewed clock, is a hit rather than a false alarm and a miss. Without it (the default)
the window is on the true clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from engine.contract.alerts import Alert
from sim.common.truth import VIOLATION_KINDS, Episode

__all__ = [
    "BOUNDED_KINDS",
    "RULE_TO_TRUTH",
    "STEP_KEYED_KINDS",
    "Matching",
    "family_of",
    "lookalike_hits",
    "match_alerts",
]

#: Engine rule name -> the truth kind its alerts are scored against.
RULE_TO_TRUTH: Mapping[str, str] = MappingProxyType(
    {
        "deadline.warning": "deadline_at_risk",
        "deadline.overdue": "overdue",
        "deadline.severe": "severely_overdue",
        "step.overdue": "step_overdue",
        **{
            f"logic.{kind}": kind
            for kind in (
                "skipped_step",
                "steps_out_of_order",
                "decision_before_acceptance",
                "certificate_without_approval",
                "excess_fee",
                "unauthorised_approval",
                "same_person_accept_approve",
                "backdated",
                "illegal_suspension",
            )
        },
    }
)

#: Kinds whose alert must not be later than onset + tolerance (timers and logic checks).
BOUNDED_KINDS: frozenset[str] = frozenset(VIOLATION_KINDS)

#: Kinds with one episode per (subject, step): the step must agree as well as the subject.
STEP_KEYED_KINDS: frozenset[str] = frozenset({"step_overdue"})


def family_of(rule: str) -> str:
    """The rule family (``deadline``, ``step``, ``logic``...): the part before the first dot."""
    return rule.split(".", 1)[0]


def _step_of(values: Mapping[str, object]) -> str | None:
    step = values.get("step")
    return None if step is None else str(step)


def _key(kind: str, subject: str, values: Mapping[str, object]) -> tuple[str, str, str | None]:
    return (kind, subject, _step_of(values) if kind in STEP_KEYED_KINDS else None)


@dataclass(frozen=True, slots=True)
class Matching:
    """The outcome of :func:`match_alerts`, by position in the inputs.

    ``pairs`` holds ``(alert_index, episode_index)`` sorted by alert index. ``scored`` are
    the indices of alerts whose rule has a truth kind; ``unscored`` the others. ``missed``
    are the real episodes of a scored kind that no alert found.
    """

    pairs: tuple[tuple[int, int], ...]
    scored: tuple[int, ...]
    unscored: tuple[int, ...]
    missed: tuple[int, ...]

    @property
    def matched_alerts(self) -> frozenset[int]:
        return frozenset(a for a, _ in self.pairs)

    @property
    def false_alarms(self) -> tuple[int, ...]:
        """Scored alerts that matched no real episode."""
        hit = self.matched_alerts
        return tuple(i for i in self.scored if i not in hit)


def match_alerts(
    alerts: Sequence[Alert],
    truth: Sequence[Episode],
    *,
    tolerance_s: float = 60.0,
    rule_to_truth: Mapping[str, str] = RULE_TO_TRUTH,
    bounded_kinds: Iterable[str] = BOUNDED_KINDS,
    clock_shift_s: Mapping[str, float] | None = None,
) -> Matching:
    """Pair alerts with real episodes one-to-one (see the module docstring for the rules)."""
    if tolerance_s < 0:
        raise ValueError(f"tolerance_s must be >= 0, got {tolerance_s}")
    bounded = frozenset(bounded_kinds)
    scored_kinds = frozenset(rule_to_truth.values())
    by_key: dict[tuple[str, str, str | None], list[int]] = defaultdict(list)
    for j, ep in enumerate(truth):
        if not ep.lookalike and ep.kind in scored_kinds:
            by_key[_key(ep.kind, ep.subject, ep.params)].append(j)

    scored: list[int] = []
    unscored: list[int] = []
    # (|dt|, alert identity, episode identity, alert index, episode index)
    candidates: list[tuple[float, tuple[object, ...], tuple[object, ...], int, int]] = []
    for i, alert in enumerate(alerts):
        kind = rule_to_truth.get(alert.rule)
        if kind is None:
            unscored.append(i)
            continue
        scored.append(i)
        a_id = (alert.ts, alert.alert_id, alert.rule, alert.subject, i)
        shift = clock_shift_s.get(alert.subject, 0.0) if clock_shift_s else 0.0
        for j in by_key.get(_key(kind, alert.subject, alert.evidence), ()):
            ep = truth[j]
            dt = (alert.ts - ep.onset).total_seconds() - shift
            if dt < -tolerance_s or (kind in bounded and dt > tolerance_s):
                continue
            candidates.append((abs(dt), a_id, (ep.onset, ep.episode_id, j), i, j))
    candidates.sort()

    used_alerts: set[int] = set()
    used_episodes: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, _, _, i, j in candidates:
        if i in used_alerts or j in used_episodes:
            continue
        used_alerts.add(i)
        used_episodes.add(j)
        pairs.append((i, j))
    pairs.sort()
    missed = tuple(sorted(j for js in by_key.values() for j in js if j not in used_episodes))
    return Matching(pairs=tuple(pairs), scored=tuple(scored), unscored=tuple(unscored), missed=missed)


def lookalike_hits(
    alerts: Sequence[Alert],
    truth: Sequence[Episode],
    matching: Matching,
    *,
    rule_to_truth: Mapping[str, str] = RULE_TO_TRUTH,
) -> tuple[int, ...]:
    """Indices of look-alike episodes that drew a false alarm of a kind they resemble.

    A look-alike is *flagged* when its subject carries an alert whose truth kind is among
    the look-alike's ``confuses`` and that alert matched no real episode. No time window is
    applied: a look-alike is a whole situation (a legal suspension, a fee within the
    standard), and any unexplained alarm of the confused kind on it is the mistake it was
    planted to provoke.
    """
    false_kinds: set[tuple[str, str]] = set()
    for i in matching.false_alarms:
        alert = alerts[i]
        false_kinds.add((rule_to_truth[alert.rule], alert.subject))
    return tuple(
        j
        for j, ep in enumerate(truth)
        if ep.lookalike and any((kind, ep.subject) in false_kinds for kind in ep.confuses)
    )
