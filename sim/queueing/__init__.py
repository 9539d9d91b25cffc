"""Queueing yardsticks and fast paths: Erlang C, FCFS stages without SimPy, staffing levels."""
