"""Human-readable views of an :class:`~reports.evaluation.run.Evaluation`.

``render_table`` is the fixed-width text ``supsim run`` prints; ``render_markdown`` is the
``summary.md`` of a run directory, with the same numbers as Markdown tables and a short
explanation of how they were obtained. Both are pure functions of the evaluation, so the
same run renders to the same text. Undefined ratios (0/0) print as ``n/a``, never as a
made-up 0 or 1.
"""

from __future__ import annotations

from reports.evaluation.accuracy import Score
from reports.evaluation.kpis import AlertCounts, AlertRates, HallKpis
from reports.evaluation.run import Evaluation
from reports.render.text_table import fixed_width, markdown_table

__all__ = ["render_markdown", "render_table"]

NA = "n/a"
_NA_NOTE = (
    "n/a = undefined (0/0): precision when the rule raised no alert, recall when there was nothing "
    "to find, F1 when neither."
)
_HEADERS = (
    "rule",
    "truth",
    "P",
    "alerts",
    "TP",
    "FP",
    "FN",
    "precision [CI]",
    "recall [CI]",
    "F1",
    "latency p50/p95 (wh)",
)
_ALERT_LABELS = (
    ("deadline_warnings", "deadline warnings"),
    ("step_warnings", "step warnings"),
    ("logic_warnings", "logic warnings"),
    ("yellow_cards", "yellow cards"),
    ("red_cards", "red cards"),
)


def _num(x: float | None, digits: int = 3) -> str:
    return NA if x is None else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return NA if x is None else f"{100 * x:.2f} %"


def _with_ci(x: float | None, ci: tuple[float, float] | None) -> str:
    text = _num(x)
    return text if ci is None else f"{text} [{ci[0]:.3f}, {ci[1]:.3f}]"


def _latency(score: Score) -> str:
    lat = score.latency
    return "-" if lat is None else f"{lat.p50_h:.2f}/{lat.p95_h:.2f}"


def _cells(score: Score) -> tuple[str, ...]:
    return (
        score.name,
        score.truth_kind or "-",
        str(score.episodes),
        str(score.alerts),
        str(score.tp),
        str(score.fp),
        str(score.fn),
        _with_ci(score.precision, score.precision_ci),
        _with_ci(score.recall, score.recall_ci),
        _num(score.f1),
        _latency(score),
    )


def _all_scores(ev: Evaluation) -> list[Score]:
    return [*ev.rules, *ev.families, ev.overall]


def _method(ev: Evaluation) -> str:
    level = f"{100 * ev.ci_level:.0f} %"
    ci = f"{level} CI: cluster bootstrap over cases, {ev.bootstrap} resamples, seed {ev.seed}"
    if ev.bootstrap == 0:
        ci = "no confidence intervals (bootstrap disabled)"
    return f"matching tolerance ±{ev.tolerance_s:g} s; {ci}"


def _kpi_lines(k: HallKpis) -> list[tuple[str, str]]:
    early = (
        f"{_pct(k.early_completion_rate)} ({k.early_completed} of {k.promised_closed} promised cases closed)"
    )
    rows = [
        (
            "cases seen / submitted / accepted / closed",
            f"{k.cases_seen} / {k.cases_submitted} / {k.cases_accepted} / {k.cases_closed}",
        ),
        ("instant share", _pct(k.instant_share)),
        ("online share", _pct(k.online_share)),
        ("completion rate (closed / accepted)", _pct(k.completion_rate)),
        ("early-completion rate", early),
        ("on-time rate", f"{_pct(k.on_time_rate)} ({k.on_time_completed} of {k.promised_closed})"),
        ("mean processing time, promised cases", _days(k.mean_processing_days, k.processing_speedup)),
    ]
    for field, label in _ALERT_LABELS:
        rows.append((label, _count_and_rate(k.alerts, k.per_10k_cases, field)))
    return rows


def _days(mean: float | None, speedup: float | None) -> str:
    if mean is None or speedup is None:
        return NA
    return f"{mean:.2f} working days ({_pct(1 - speedup)} of the promised limit)"


def _count_and_rate(counts: AlertCounts, rates: AlertRates | None, field: str) -> str:
    n = getattr(counts, field)
    per = NA if rates is None else f"{getattr(rates, field):.2f}"
    return f"{n} ({per} per 10,000 cases)"


def render_table(ev: Evaluation) -> str:
    """Fixed-width plain text: scored rules, families, overall, look-alikes, KPIs."""
    right = frozenset({2, 3, 4, 5, 6, 9})
    body = [_cells(s) for s in _all_scores(ev)]
    lines = fixed_width([_HEADERS, *body], right)
    width = max(len(line) for line in lines)
    n_rules, n_fam = len(ev.rules), len(ev.families)
    rule = "-" * width
    out = [f"Detection accuracy ({_method(ev)})", lines[0], rule, *lines[1 : 1 + n_rules], rule]
    out += [*lines[1 + n_rules : 1 + n_rules + n_fam], lines[-1], rule, _NA_NOTE]
    if ev.unscored_alerts:
        out.append("unscored alerts: " + ", ".join(f"{r} {n}" for r, n in ev.unscored_alerts.items()))
    if ev.unscored_truth:
        out.append(
            "truth kinds without a rule: " + ", ".join(f"{k} {n}" for k, n in ev.unscored_truth.items())
        )
    total_look = sum(s.episodes for s in ev.lookalikes)
    out += ["", f"Look-alikes flagged: {ev.lookalikes_flagged} of {total_look}"]
    look_rows = [(s.kind, f"{s.episodes} episodes", f"{s.flagged} flagged") for s in ev.lookalikes]
    if look_rows:
        out += ["  " + line for line in fixed_width(look_rows, frozenset({1, 2}))]
    out += ["", "Hall KPIs (from events)"]
    out += ["  " + line for line in fixed_width(_kpi_lines(ev.kpis), frozenset())]
    f = ev.facts
    out += [
        "",
        f"Run: {f.events} events, {f.alerts} alerts, {f.truth_episodes} truth episodes "
        f"({f.violations} violations, {f.lookalikes} look-alikes), {f.cases} cases",
    ]
    return "\n".join(out) + "\n"


def render_markdown(ev: Evaluation, *, title: str) -> str:
    """``summary.md``: the table's content as Markdown, with how it was measured."""
    right = frozenset({2, 3, 4, 5, 6, 9})
    k = ev.kpis
    out = [f"# {title}", "", f"*{_method(ev)}*", "", "## Detection accuracy", ""]
    out += markdown_table(_HEADERS, [_cells(s) for s in ev.rules], right)
    out += ["", "By family and overall:", ""]
    out += markdown_table(_HEADERS, [_cells(s) for s in [*ev.families, ev.overall]], right)
    out += [
        "",
        f"P = real truth episodes of the rule's kind. {_NA_NOTE} Latency is alert time minus truth "
        "onset in working hours (wh) on the working calendar; negative means early within the tolerance.",
        "",
        "**Matching.** An alert is a true positive when it pairs with a real episode of its rule's truth "
        "kind about the same subject (and the same step for step overdue) whose onset lies within "
        f"±{ev.tolerance_s:g} s of the alert time: deadline timers and logic checks fire at the instant "
        "the violation starts, so the tolerance only absorbs rounding. Pairing is one-to-one, greedy by "
        "time difference with ties broken by ids, so a duplicate alert counts as a false positive. "
        "Alerts of rules without a truth kind are counted, not scored.",
        "",
        f"**Intervals.** {100 * ev.ci_level:.0f} % percentile intervals from {ev.bootstrap} "
        "cluster-bootstrap resamples of cases (seeded): a case's alerts and episodes move together, so "
        "correlated misses within a case are not mistaken for independent evidence. Resamples where a "
        "ratio is 0/0 are left out.",
    ]
    if ev.unscored_alerts:
        out += [
            "",
            "Unscored alerts (no truth kind): "
            + ", ".join(f"`{r}` {n}" for r, n in ev.unscored_alerts.items()),
        ]
    if ev.unscored_truth:
        out += [
            "",
            "Truth kinds without a rule: " + ", ".join(f"`{k_}` {n}" for k_, n in ev.unscored_truth.items()),
        ]
    total_look = sum(s.episodes for s in ev.lookalikes)
    out += [
        "",
        "## Look-alikes",
        "",
        f"Flagged: **{ev.lookalikes_flagged}** of {total_look} look-alike "
        "negatives drew an unmatched alert of a kind they resemble (0 on a clean run).",
        "",
    ]
    out += markdown_table(
        ("look-alike", "episodes", "flagged"),
        [(s.kind, str(s.episodes), str(s.flagged)) for s in ev.lookalikes],
        frozenset({1, 2}),
    )
    out += ["", "## Hall KPIs (from events)", ""]
    out += markdown_table(("KPI", "value"), _kpi_lines(k), frozenset())
    if k.departments:
        out += ["", "### Per department", ""]
        dept_rows = [
            (
                d.department_id,
                str(d.cases_submitted),
                str(d.cases_accepted),
                str(d.cases_closed),
                _pct(d.early_completion_rate),
                str(d.alerts.deadline_warnings),
                str(d.alerts.logic_warnings),
                str(d.alerts.yellow_cards),
                str(d.alerts.red_cards),
            )
            for d in k.departments
        ]
        out += markdown_table(
            (
                "department",
                "submitted",
                "accepted",
                "closed",
                "early completion",
                "deadline warnings",
                "logic warnings",
                "yellow",
                "red",
            ),
            dept_rows,
            frozenset(range(1, 9)),
        )
    f = ev.facts
    out += [
        "",
        "## Run",
        "",
        f"{f.events} events, {f.alerts} alerts, {f.truth_episodes} truth episodes "
        f"({f.violations} violations, {f.lookalikes} look-alikes), {f.cases} cases.",
    ]
    return "\n".join(out) + "\n"
