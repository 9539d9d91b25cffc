"""The contract sim and engine share: events by family, alerts, JSON Lines I/O, the working-day calendar."""
