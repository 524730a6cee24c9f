"""The verbs of the domain: each takes the acting user, checks the rules, writes and logs; the caller commits."""


class ServiceError(Exception):
    """A rule of the contest refused the action; the message is translated and safe to show."""


class Unavailable(ServiceError):
    """Something the action needs (the file storage) cannot be reached just now: nothing was saved, and the
    same action may succeed in a few minutes. Pages answer it with 503 and Retry-After."""
