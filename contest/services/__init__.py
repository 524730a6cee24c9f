"""The verbs of the domain: each takes the acting user, checks the rules, writes and logs; the caller commits."""


class ServiceError(Exception):
    """A rule of the contest refused the action; the message is translated and safe to show."""
