"""The follow-up of adopted entries: public pages from design to street, and the organisers' page that feeds them."""
from flask import Blueprint

bp = Blueprint("followup", __name__)
