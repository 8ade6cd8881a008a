"""The offline-sync protocol: hybrid logical clocks and a per-field LWW change log. Pure Python."""
