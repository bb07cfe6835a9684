"""Kernel substitutions for training: per-instance layer patches, undone after training."""
