"""The organisers' console: one per department, seen only by its members (and administrators)."""
from flask import Blueprint

bp = Blueprint("console", __name__)
