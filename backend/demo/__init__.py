"""Demo data: `seed_demo()` fills an empty database with a realistic Shanghai field-sales organisation.

Used by `fieldbook demo`; everything is generated from one seed, so every demo looks the same.
"""

from backend.demo.seed import seed_demo
from backend.demo.summary import DatabaseNotEmpty, DemoLogin, DemoSummary, existing_demo_logins

__all__ = ["DatabaseNotEmpty", "DemoLogin", "DemoSummary", "existing_demo_logins", "seed_demo"]
