"""Pages for everyone: the home page and the language switch (calls and galleries come here later)."""
