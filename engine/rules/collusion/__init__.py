"""Collusion rules on tendering streams, with the tender state they own."""
