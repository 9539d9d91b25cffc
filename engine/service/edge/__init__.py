"""The HTTP edge of the service: strict requests (guards) and connection limits (protocol)."""
