"""Route planning: beat plans over weeks and optimised daily routes."""
