"""The optional sections of a hall scenario (cameras, data quality, complaints, inspections, deemed
rules): each a typed struct with its own checks; absent, a run is exactly as without it."""
