"""Entrants' pages: sending an entry, editing or withdrawing it, and "my entries"."""
