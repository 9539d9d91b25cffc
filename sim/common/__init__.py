"""What every world shares: scenario format, simulation clock, ground-truth records, hall model."""
