"""Helpers for the residual-networks course: data, self-checks, training, plots."""

__version__ = "0.1.0"
