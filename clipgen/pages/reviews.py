"""Placeholder: filled in by the marketplace work."""
