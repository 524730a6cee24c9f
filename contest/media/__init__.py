"""Serving stored images: derived sizes to whoever may see the entry, originals and scans to the call's staff."""
from flask import Blueprint

bp = Blueprint("media", __name__)
