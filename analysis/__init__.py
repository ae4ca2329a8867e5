"""Metrics and plots on numpy arrays: retrieval, transfer, overlap, capacity curves.

Nothing here imports ``models`` or ``sims``; every function takes arrays and returns
numbers or matplotlib artists.
"""
