"""Accounts: registration, confirmation, logging in and out, password resets, the profile."""
from flask import Blueprint

bp = Blueprint("auth", __name__)
