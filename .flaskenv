# Read by the `flask` command (through python-dotenv) from this folder or above: `flask demo`, `flask db upgrade`,
# `flask worker` need no `--app wsgi`. Settings and secrets go in CONTEST_* environment variables, not here.
FLASK_APP=wsgi
