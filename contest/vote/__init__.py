"""Citizens' pages of a public round: voting, taking a vote back, comparing pairs."""
