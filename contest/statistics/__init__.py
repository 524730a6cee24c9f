"""The public statistics pages: figures across the published calls and per department, with charts."""
