"""The live deployment: the engine behind an ASGI service, its durable log, auth, board and metrics."""
