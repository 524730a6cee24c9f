"""The organisers' console: one per department, seen only by its members (and administrators)."""
