"""Reflex state shared by every page."""
