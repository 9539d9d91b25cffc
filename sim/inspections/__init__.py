"""Unannounced inspections (暗访) of a hall's units: visits, findings, rectification notices, truth."""
