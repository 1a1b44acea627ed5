"""Identity: NIK accounts, tokens, roles, personal-data protection."""
