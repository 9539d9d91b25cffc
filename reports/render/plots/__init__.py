"""The report's figures (matplotlib): run figures, the sweep plot, and CJK-capable fonts."""
