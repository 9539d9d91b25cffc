"""Locust load tests that replay scenario streams against a live deployment."""
