"""Login, tokens, passwords, the caller's identity and the role guards."""
