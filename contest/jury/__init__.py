"""Jurors' pages: accepting an invitation, the list of entries to score, the scoring form."""
