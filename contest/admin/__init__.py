"""Administrator pages: the department tree, users, roles and disabled accounts."""
