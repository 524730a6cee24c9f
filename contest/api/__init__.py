"""The open-data JSON API under /api/v1: public reads, token-authenticated writes, its OpenAPI document."""
from flask import Blueprint

bp = Blueprint("api", __name__)
