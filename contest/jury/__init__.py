"""Jurors' pages: accepting an invitation, the list of entries to score, the scoring form."""
from flask import Blueprint

bp = Blueprint("jury", __name__)
