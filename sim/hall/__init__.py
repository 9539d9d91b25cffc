"""The approval hall: arrivals, the fixed flow of each case as SimPy processes, misconduct and its truth."""
