"""Pages for everyone: the home page and the language switch (calls and galleries come here later)."""
from flask import Blueprint

bp = Blueprint("public", __name__)
