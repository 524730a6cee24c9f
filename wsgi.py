"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
from contest import create_app

app = create_app()
