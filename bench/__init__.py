"""Benchmarks: one script per figure, each printing the figure and its ratio to a same-run baseline."""
