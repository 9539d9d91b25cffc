"""Judging runs: alerts matched to truth, accuracy with intervals, KPIs, calibration figures, sweep scores."""
