"""Citizens' pages of a public round: voting, taking a vote back, comparing pairs."""
from flask import Blueprint

bp = Blueprint("vote", __name__)
