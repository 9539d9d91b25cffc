"""The HTTP edge of the service: strict requests (guards, duplicate_keys) and connection limits (protocol)."""
