"""Accounts, roles and sign-in sessions."""
