"""Organisations (tenants) and their users."""
