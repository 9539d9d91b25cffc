"""The hall floor: staff conduct at the windows, queues, noisy cameras, and their truth."""
