"""``supsim detect``: the engine on an event file that follows the contract, with no truth.

Any export will do (a user's own approval platform, a run's ``events.jsonl``): every bad line is
named in one pass, or set aside with ``skip_invalid``; the file's order is read as arrival order
unless ``in_time_order``; the alerts are written beside the file, never over a run folder's own
different ones. What was set aside, and why, is counted (:func:`supsim.experiments.run.side_counts`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import msgspec

from engine.contract.alerts import Alert, write_alerts
from engine.contract.events import BadLine, Event, EventDecodeError, scan_jsonl
from engine.contract.holidays import CalendarOverride
from engine.replay import detect
from engine.rules.rulebook import load_rulebook
from reports.render.report.integrity import sha256_of
from supsim.experiments.progress import Progress
from supsim.experiments.run import side_counts, write_side_output
from supsim.experiments.run_folder import MANIFEST

__all__ = ["LATE_WARNING", "DetectReport", "detect_file"]


@dataclass
class DetectReport:
    """What ``supsim detect`` prints, and what decides its exit status."""

    text: str
    side_counts: dict[str, int]
    #: The calendar's message for the first instant it could not place (None when all could).
    first_calendar_error: str | None = None
    #: Lines that were not contract events, set aside with ``skip_invalid`` (0 otherwise).
    invalid_lines: int = 0


def detect_file(
    events_path: Path,
    *,
    rulebook: Path | None,
    out: Path,
    side_output: Path | None = None,
    reference: datetime | None = None,
    calendar: CalendarOverride | None = None,
    skip_invalid: Path | None = None,
    in_time_order: bool = False,
    progress: bool = True,
) -> DetectReport:
    """Run the engine over an event file; write alerts (and the side output); summarise.

    The input is decoded and checked completely before the alerts file is written, so a
    bad line leaves no half-written output behind. Events outside the calendar's covered
    years do not stop the run: everything else is written, and the report says which
    years are missing (the command then exits 1). ``calendar`` carries ``--holidays`` /
    ``--beyond-range``; the summary says when the calendar assumed uncovered years.

    Every bad line is found in one pass. Without ``skip_invalid`` they stop the run, all named
    (nothing is written); with it the valid events are judged and each bad line is written to
    ``skip_invalid`` as it was read, with its line number and the reason.

    The file's order is taken as the order events arrived in (late ones are set aside, as a
    live engine would). ``in_time_order`` replays a finished export sorted some other way (by
    case, by hall) in event-time order instead; ties keep the file's order.
    """
    from engine.rules.rulebook import Rulebook as _Rulebook
    from reports.render.report.run_calendar import calendar_note

    book = load_rulebook(rulebook) if rulebook is not None else _Rulebook.default()
    cal = book.build_calendar(calendar)
    with Progress(f"read {events_path.name}", unit="line", enabled=progress) as bar:
        events, bad = scan_jsonl(events_path, progress=bar.advance)
    if bad and skip_invalid is None:
        raise EventDecodeError(_bad_lines_message(events_path, bad))
    if in_time_order:
        events.sort(key=lambda e: e.ts)
    with Progress("detect", unit="event", total=len(events), enabled=progress) as bar:
        result = detect(_counted(events, bar), book, calendar=cal, reference=reference)
    _write_alerts_guarded(result.alerts, out)
    if side_output is not None:
        write_side_output(result.side_output, side_output)
    if skip_invalid is not None:
        skip_invalid.write_bytes(b"".join(msgspec.json.encode(b) + b"\n" for b in bad))
    by_rule: dict[str, int] = {}
    for alert in result.alerts:
        by_rule[alert.rule] = by_rule.get(alert.rule, 0) + 1
    lines = [
        f"{len(events):,} events read from {events_path}"
        + (f"; {len(bad):,} invalid line(s) set aside to {skip_invalid}" if skip_invalid is not None else ""),
        f"{len(result.alerts):,} alerts written to {out}",
    ]
    lines += [f"  {rule:<40} {n:>8,}" for rule, n in sorted(by_rule.items())]
    counts = side_counts(result.side_output)
    lines.append("side output: " + ", ".join(f"{n:,} {reason}" for reason, n in counts.items()))
    if (unjudged := result.stats.get("unjudged_at_end")) is not None:
        lines.append(
            f"not judged at the end: {unjudged:,} timer(s) due after what their source delivered "
            "(sources.end_of_stream: source)"
        )
    if side_output is not None:
        lines.append(f"{len(result.side_output):,} side-output records written to {side_output}")
    if not in_time_order and counts.get("late", 0) >= LATE_WARNING * max(len(events), 1):
        lines.append(
            f"warning: {counts['late']:,} of {len(events):,} events came behind the watermark and were set "
            "aside as late. Is the file in arrival order? An export sorted by case or hall replays in "
            "event-time order with --in-time-order"
        )
    if counts.get("future", 0) >= LATE_WARNING * max(len(events), 1):
        when = f"after --reference-time {reference.isoformat()}" if reference is not None else "far ahead"
        lines.append(
            f"warning: {counts['future']:,} of {len(events):,} events are stamped {when} and were set aside "
            "as future, unjudged. --reference-time should be the instant the export was taken (or later)"
        )
    if note := calendar_note(cal.coverage()):
        lines.append(note)
    first = next((r.detail for r in result.side_output if r.reason == "out_of_calendar"), None)
    return DetectReport(
        text="\n".join(lines), side_counts=counts, first_calendar_error=first, invalid_lines=len(bad)
    )


def _counted(events: list[Event], bar: Progress, every: int = 20_000) -> Iterator[Event]:
    """``events``, advancing ``bar`` every ``every`` of them (the engine takes any iterable)."""
    for i, event in enumerate(events, start=1):
        yield event
        if i % every == 0:
            bar.advance(every)


#: Share of an event file set aside as late above which ``detect`` asks whether the file is in
#: arrival order: a live feed's stragglers are a few per cent at most; an export sorted by case
#: makes most of the file late. The same share set aside as future questions the reference time.
LATE_WARNING = 0.05


def _bad_lines_message(path: Path, bad: list[BadLine], shown: int = 10) -> str:
    head = [f"  {b.error}" for b in bad[:shown]]
    more = [f"  ... and {len(bad) - shown:,} more"] if len(bad) > shown else []
    title = f"{path}: {len(bad):,} line(s) are not contract events; nothing was written:"
    hint = "fix them, or judge the rest with --skip-invalid FILE (the bad lines are kept there)"
    return "\n".join([title, *head, *more, hint])


def _write_alerts_guarded(alerts: list[Alert], out: Path) -> None:
    """Write ``out``, unless it is a run folder's ``alerts.jsonl`` and the alerts differ.

    A run's ``metrics.json`` describes its alerts by digest; replacing them with other alerts
    would leave every figure of that run describing alerts that are gone. The same alerts
    (the same events and rulebook) are harmless and are written.
    """
    from reports.render.report.integrity import DIGESTED_FILES, RunFolderError

    manifest = out.parent / MANIFEST
    if out.name != "alerts.jsonl" or not manifest.is_file():
        write_alerts(alerts, out)
        return
    recorded = json.loads(manifest.read_bytes()).get(DIGESTED_FILES["alerts.jsonl"])
    fd, name = tempfile.mkstemp(prefix=".alerts-", suffix=".partial", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write_alerts(alerts, tmp)
        if recorded is not None and sha256_of(tmp) != recorded:
            raise RunFolderError(
                f"{out}: these are the alerts of the run in {out.parent} (its metrics.json records their "
                "digest), and the alerts just detected differ from them; writing them there would leave that "
                "run's figures describing alerts that are gone. Nothing was written: choose another file "
                "with --out."
            )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
