"""A call beyond the site: calendars (.ics), the Atom feed, sitemap.xml and robots.txt, and the sharing cards
(OpenGraph) the public pages carry."""
from flask import Blueprint

bp = Blueprint("feeds", __name__)
