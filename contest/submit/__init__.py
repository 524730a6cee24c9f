"""Entrants' pages: sending an entry, editing or withdrawing it, and "my entries"."""
from flask import Blueprint

bp = Blueprint("submit", __name__)
