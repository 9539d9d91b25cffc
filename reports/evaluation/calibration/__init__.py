"""Calibration against published figures: targets files, the figures a run produces, the table."""
