"""Experiments that run worlds through the engine: the run pipeline, sweeps, calibration, planning."""
