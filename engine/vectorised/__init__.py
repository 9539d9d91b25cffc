"""Column paths for sweeps: many threshold values over one stream in one numpy pass."""
