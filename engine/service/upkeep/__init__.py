"""What keeps a long-running service's memory and log in shape without stopping ingest.

:mod:`~engine.service.upkeep.heap` bounds the cycle collector's pauses while the engine's
state grows; :mod:`~engine.service.upkeep.checkpoints` copies the write-ahead log into the
database from a thread of its own, so no group commit waits for it.
"""
