"""Administrator pages: the department tree, users, roles and disabled accounts."""
from flask import Blueprint

bp = Blueprint("admin", __name__)
