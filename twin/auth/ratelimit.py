"""Failed-login limits per user name and per address, so passwords cannot be guessed at speed.

Kept in memory: a restart forgets them, which costs an attacker nothing they could not get by
waiting the window out; several instances each keep their own (a shared store is not needed to
make guessing impractical).
"""

from __future__ import annotations

import time
from collections import defaultdict, deque


class FailureLimiter:
    """At most ``limit`` failures per key in ``window`` seconds; then refuse until the oldest ages out."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def retry_after(self, *keys: str) -> float:
        """Return the seconds to wait before any of these keys may try again (0 when allowed)."""
        now = time.monotonic()
        wait = 0.0
        for key in keys:
            failures = self._failures.get(key)
            if failures is None:
                continue
            while failures and now - failures[0] > self.window:
                failures.popleft()
            if len(failures) >= self.limit:
                wait = max(wait, self.window - (now - failures[0]))
        return wait

    def fail(self, *keys: str) -> None:
        """Record a failure against each key."""
        now = time.monotonic()
        for key in keys:
            self._failures[key].append(now)

    def succeed(self, key: str) -> None:
        """Forget a user's failures after a successful login (the address keeps its count)."""
        self._failures.pop(key, None)
