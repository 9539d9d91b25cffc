"""Networks of halls: a province of halls described by levels, templates and counts."""
