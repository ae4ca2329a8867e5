"""Experiments: configs, the runner, run files, sweeps and reports."""
