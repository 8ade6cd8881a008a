"""The server side of the sync protocol: field versions in the database, scope, policy, projection, HTTP."""
