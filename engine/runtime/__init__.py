"""Event time: the watermark buffer, timers, dispatch, and per-case and reference state."""
