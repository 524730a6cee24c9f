"""gunicorn settings for one app server behind nginx (deploy/nginx/contest.conf).

    gunicorn -c deploy/gunicorn.conf.py --bind 127.0.0.1:8001 wsgi:app

Settings given on the command line win over these; CONTEST_GUNICORN_WORKERS and CONTEST_GUNICORN_THREADS size it.
"""
import os

bind = [os.environ.get("CONTEST_GUNICORN_BIND", "127.0.0.1:8001")]
# Threads, because a request mostly waits for PostgreSQL or S3; processes, because Pillow's work on an upload
# holds the interpreter. Two processes of four threads per core is a start; bench/votes.py measures a setup.
workers = int(os.environ.get("CONTEST_GUNICORN_WORKERS", 2 * (os.cpu_count() or 1)))
threads = int(os.environ.get("CONTEST_GUNICORN_THREADS", 4))
worker_class = "gthread"
# nginx waits 65 s for an answer (proxy_read_timeout); a worker stuck for longer than this is restarted.
timeout = 60
# On SIGTERM (a deploy, systemd stopping it) the requests under way finish first.
graceful_timeout = 30
# nginx opens a connection per request to an app server; this only matters to clients that talk to it directly.
keepalive = 5
# A worker is replaced after this many requests (with some jitter, so not all at once): a slow leak in a library
# never grows without bound.
max_requests = 5000
max_requests_jitter = 500
# The access log names the request id nginx gave the request (X-Request-ID), as the app's own log lines do.
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)s req=%({x-request-id}o)s'
errorlog = "-"
