"""The data-quality layer: how departments' records reach the engine, impaired and recorded."""
