"""Visits: check-in and check-out, visit logs, photos and follow-up reminders."""
