"""Meetings of a call and its common issues: the organisers' pages and the public meeting page."""
from flask import Blueprint

bp = Blueprint("meetings", __name__)
