"""Real cartel data: screens and features from raw bids, models with honest evaluation, ring recovery."""
