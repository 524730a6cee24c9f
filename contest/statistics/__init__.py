"""The public statistics pages: figures across the published calls and per department, with charts."""
from flask import Blueprint

bp = Blueprint("statistics", __name__, url_prefix="/statistics")
