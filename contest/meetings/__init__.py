"""Meetings of a call and its common issues: the organisers' pages and the public meeting page."""
