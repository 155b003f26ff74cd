"""Who may do what, where: users, roles scoped to places, tokens, API keys and protected personal data."""
