"""Judging runs and presenting them: ``evaluation`` scores, ``render`` shows.

``evaluation`` matches alerts to ground truth and computes accuracy with intervals, hall KPIs,
discipline and collusion scores, calibration and sweep figures; ``render`` turns them into
terminal tables, Markdown and one self-contained HTML report with provenance. Neither runs a
world: experiments that simulate live in :mod:`supsim.experiments`.

``evaluate`` turns a run's events, alerts and truth into an :class:`Evaluation` (the content of
``metrics.json``); ``render_table`` and ``render_markdown`` present it. ``reports`` may read
the truth because it is the judge, not a detector: the engine never imports it.
"""

from __future__ import annotations

from reports.evaluation.accuracy import Latency, Score
from reports.evaluation.kpis import HallKpis
from reports.evaluation.matching import RULE_TO_TRUTH, match_alerts
from reports.evaluation.run import Evaluation, LookalikeScore, RunFacts, evaluate
from reports.render.tables.summary import render_markdown, render_table

__all__ = [
    "RULE_TO_TRUTH",
    "Evaluation",
    "HallKpis",
    "Latency",
    "LookalikeScore",
    "RunFacts",
    "Score",
    "evaluate",
    "match_alerts",
    "render_markdown",
    "render_table",
]
