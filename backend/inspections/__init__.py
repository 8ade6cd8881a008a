"""Inspections (shelf audits) and their per-product items."""
