"""Threshold sweeps: grids of rule parameters, cheap per-variant scoring, the table across seeds."""
