"""Accounts: registration, confirmation, logging in and out, password resets, the profile."""
