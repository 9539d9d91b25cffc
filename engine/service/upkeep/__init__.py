"""What keeps a long-running service's memory and log in shape without stopping ingest.

:mod:`~engine.service.upkeep.heap` bounds the cycle collector's pauses while the engine's
state grows.
"""
