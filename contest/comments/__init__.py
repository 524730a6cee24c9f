"""Comments on calls and entries: writing, replying, endorsing, reporting, and the organisers' review of them."""
