"""Printed posters of a call with a QR code: the organisers' pages, and the memory of a visitor who scanned one."""
from flask import Blueprint

bp = Blueprint("posters", __name__)
