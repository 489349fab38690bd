"""Rankers: pick the best moments among candidate windows."""
