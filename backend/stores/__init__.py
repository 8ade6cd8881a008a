"""Territories and stores: locations, geofences, opening hours, visit frequencies and CSV import."""
