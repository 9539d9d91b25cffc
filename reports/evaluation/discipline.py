"""Episode-level scoring of the discipline rules: interval matching, P/R/F1, latency.

Why episodes and not instants: an absence is an interval, and an alert says "this person
has been away since ``since``". An alert matches a truth episode of its rule's kind when
both are about the same subject and the alert's interval ``[since, ts]`` overlaps the
episode ``[onset, end]`` widened by ``tolerance_s`` (clock offsets of the cameras); each
episode is matched at most once, alerts in time order, each to the overlapping episode
with the earliest onset.

Which truth episodes are *positives* (counted in recall):

* ``post_absence``: at least ``absence_minutes`` of service time, and not overlapping an
  outage of the window's camera (an absence nobody could see is not a miss). Absences
  within ``grey_s`` below the threshold, or overlapping an outage, are *grey*: an alert on
  them is neither a hit nor a false alarm. Shorter absences and legitimate breaks are
  negatives: an alert on them is a false positive (breaks flagged are also counted).
* ``camera_outage``: outages with more *working* time than the offline threshold plus one
  heartbeat minute; the others (short, or at lunch, before opening) are grey.
* the other kinds: every episode.

Latency is ``alert.ts − (onset + threshold)``, the delay beyond the earliest instant at
which the rule could have known (the threshold is the rule's own minutes, counted in
service time for absences).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec
import numpy as np

from engine.contract.alerts import Alert
from engine.contract.calendar import WorkingCalendar
from engine.rules import RULE_NAMES
from engine.rules.rulebook import Rulebook
from reports.evaluation.run import Evaluation
from sim.common.truth import Episode

__all__ = [
    "DISCIPLINE_RULE_TO_TRUTH",
    "DisciplineReport",
    "RuleScore",
    "evaluate_discipline",
    "set_aside_discipline",
]

DISCIPLINE_RULE_TO_TRUTH: Mapping[str, str] = {
    "discipline.absence": "post_absence",
    "discipline.camera_offline": "camera_outage",
    "discipline.empty_window": "empty_window",
    "discipline.capacity": "capacity",
    "discipline.late_arrival": "late_arrival",
    "discipline.early_departure": "early_departure",
    "discipline.dispute": "dispute",
}


class RuleScore(msgspec.Struct, frozen=True, kw_only=True):
    rule: str
    kind: str
    positives: int
    alerts: int
    tp: int
    fp: int
    fn: int
    grey: int
    precision: float
    recall: float
    f1: float
    latency_median_s: float | None
    latency_p90_s: float | None


class DisciplineReport(msgspec.Struct, frozen=True, kw_only=True):
    tolerance_s: float
    grey_s: float
    rules: tuple[RuleScore, ...]
    #: absence alerts whose interval overlaps an outage of their camera (target: 0)
    absence_alerts_during_outages: int
    #: legitimate breaks that drew an absence alert
    breaks_flagged: int
    breaks: int


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def _thresholds(d: Any) -> dict[str, float]:
    return {
        "discipline.camera_offline": 60.0 * d.offline_minutes,
        "discipline.empty_window": 60.0 * d.empty_minutes,
        # the truth's onset is already the instant the wait crossed the threshold
        "discipline.capacity": 0.0,
        "discipline.late_arrival": 60.0 * d.late_tolerance_minutes,
        "discipline.early_departure": 0.0,
        "discipline.dispute": 0.0,
    }


def _since(alert: Alert) -> datetime:
    raw = alert.evidence.get("since")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else alert.ts


def evaluate_discipline(
    alerts: Sequence[Alert],
    truth: Sequence[Episode],
    *,
    calendar: WorkingCalendar,
    section: Any = None,
    tolerance_s: float = 60.0,
    grey_s: float = 60.0,
) -> DisciplineReport:
    """Score every discipline rule against the camera truth (see the module docstring)."""
    d = section if section is not None else Rulebook.default().rules.discipline
    tol = timedelta(seconds=tolerance_s)
    outages: dict[str, list[tuple[datetime, datetime]]] = {}
    for ep in truth:
        if ep.kind == "camera_outage" and ep.end is not None:
            outages.setdefault(ep.subject.removeprefix("camera:"), []).append((ep.onset, ep.end))

    def in_outage(camera: object, a: datetime, b: datetime) -> bool:
        return any(x < b and a < y for x, y in outages.get(str(camera), []))

    limit_s = 60.0 * d.absence_minutes
    scores: list[RuleScore] = []
    during = flagged = 0
    breaks = [ep for ep in truth if ep.kind == "legit_break"]
    for rule, kind in DISCIPLINE_RULE_TO_TRUTH.items():
        mine = sorted((a for a in alerts if a.rule == rule), key=lambda a: (a.ts, a.alert_id))
        if rule not in RULE_NAMES and not mine:
            continue  # a rule the registry does not know yet has no row (rather than recall 0)
        cands = [
            ep
            for ep in truth
            if ep.kind == kind or (rule == "discipline.absence" and ep.kind == "legit_break")
        ]
        status: dict[str, str] = {}
        for ep in cands:
            if ep.kind == "legit_break":
                status[ep.episode_id] = "negative"
            elif kind == "post_absence":
                service = float(ep.params.get("service_s") or 0.0)
                end = ep.end or ep.onset
                if (
                    in_outage(ep.params.get("camera_id"), ep.onset, end)
                    or limit_s - grey_s <= service < limit_s
                ):
                    status[ep.episode_id] = "grey"
                else:
                    status[ep.episode_id] = "positive" if service >= limit_s else "negative"
            elif kind == "camera_outage":
                # Only working time is watched; an outage with less working time than the
                # offline threshold (plus a heartbeat) cannot be seen.
                length = calendar.working_seconds(ep.onset, ep.end or ep.onset)
                status[ep.episode_id] = "grey" if length < 60.0 * (d.offline_minutes + 1) else "positive"
            else:
                status[ep.episode_id] = "positive"
        by_subject: dict[str, list[Episode]] = {}
        for ep in sorted(cands, key=lambda e: (e.onset, e.episode_id)):
            by_subject.setdefault(ep.subject, []).append(ep)
        used: set[str] = set()
        tp = fp = grey = 0
        lat: list[float] = []
        for a in mine:
            a0 = _since(a)
            hit = None
            for ep in by_subject.get(a.subject, []):
                end = ep.end or ep.onset
                if ep.episode_id not in used and a0 <= end + tol and ep.onset - tol <= a.ts:
                    hit = ep
                    break
            st = "negative" if hit is None else status[hit.episode_id]
            if hit is not None:
                used.add(hit.episode_id)
            if rule == "discipline.absence":
                camera = a.evidence.get("camera_id")
                if in_outage(camera, a0, a.ts):
                    during += 1
                if hit is not None and hit.kind == "legit_break":
                    flagged += 1
            if st == "positive":
                tp += 1
                assert hit is not None
                if rule == "discipline.absence":
                    due = calendar.add_working(hit.onset, limit_s)
                else:
                    due = hit.onset + timedelta(seconds=_thresholds(d)[rule])
                lat.append((a.ts - due).total_seconds())
            elif st == "grey":
                grey += 1
            else:
                fp += 1
        positives = sum(1 for v in status.values() if v == "positive")
        fn = positives - tp
        p, r = _ratio(tp, tp + fp), _ratio(tp, positives)
        scores.append(
            RuleScore(
                rule=rule,
                kind=kind,
                positives=positives,
                alerts=len(mine),
                tp=tp,
                fp=fp,
                fn=fn,
                grey=grey,
                precision=round(p, 4),
                recall=round(r, 4),
                f1=round(2 * p * r / (p + r), 4) if p + r else 0.0,
                latency_median_s=round(float(np.median(lat)), 1) if lat else None,
                latency_p90_s=round(float(np.quantile(lat, 0.9)), 1) if lat else None,
            )
        )
    return DisciplineReport(
        tolerance_s=tolerance_s,
        grey_s=grey_s,
        rules=tuple(scores),
        absence_alerts_during_outages=during,
        breaks_flagged=flagged,
        breaks=len(breaks),
    )


def set_aside_discipline(evaluation: Evaluation) -> Evaluation:
    """``evaluation`` without the discipline rules and truth kinds in its "unscored" lists.

    Why: the case-level matcher has no truth kind for camera rules, so it lists their alerts
    as unscored and their episodes as kinds without a rule, while the discipline section of
    the same report scores them episode by episode. Saying both would contradict the table.
    """
    rules, kinds = set(DISCIPLINE_RULE_TO_TRUTH), set(DISCIPLINE_RULE_TO_TRUTH.values())
    return msgspec.structs.replace(
        evaluation,
        unscored_alerts={r: n for r, n in evaluation.unscored_alerts.items() if r not in rules},
        unscored_truth={k: n for k, n in evaluation.unscored_truth.items() if k not in kinds},
    )
