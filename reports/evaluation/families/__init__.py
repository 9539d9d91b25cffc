"""Rule families scored apart from a run's main evaluation: complaints, inspections, deemed rules.

Each adds a section to a run only when its scenario section is present; ``scoring`` holds what
they share (bounded matching, the clustered bootstrap, the look-alike count and the tables).
"""
