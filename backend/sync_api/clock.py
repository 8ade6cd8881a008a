"""This process's hybrid logical clock. Each process has its own node id, so two never stamp alike."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache

from sync.clock import Clock


@lru_cache(maxsize=1)
def server_clock() -> Clock:
    return Clock(f"server-{os.getpid()}-{secrets.token_hex(3)}")
