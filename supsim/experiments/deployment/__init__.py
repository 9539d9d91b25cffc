"""Deployment sizing: a network's peak load, measured capacities, and the processes it needs."""
