"""Brute-force slowdown for password logins (and for the credentials API's ``/create``).

Failed attempts are counted per source address and per user name, in a sliding window.
The next attempt is *delayed before its password is checked* (so an attacker cannot learn
the outcome sooner by hanging up): per address, growing delays and then refusal; per user,
growing delays only — never a lockout, which an attacker could use to break an ETL job that
logs in as that user from elsewhere. Memory is bounded (least recently failed keys go first).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from twisted.internet.interfaces import IReactorTime

__all__ = ["LoginThrottle"]


@dataclass
class _Count:
    n: int
    last: float


class LoginThrottle:
    """Counts failures; answers how long to hold the next attempt, and whether to refuse it."""

    def __init__(
        self,
        clock: IReactorTime,
        *,
        free_failures: int = 3,
        base_delay: float = 0.5,
        user_max_delay: float = 5.0,
        addr_max_delay: float = 10.0,
        addr_refuse_after: int = 30,
        window: float = 900.0,
        max_keys: int = 50_000,
    ) -> None:
        self.clock = clock
        self.free_failures = free_failures
        self.base_delay = base_delay
        self.user_max_delay = user_max_delay
        self.addr_max_delay = addr_max_delay
        self.addr_refuse_after = addr_refuse_after
        self.window = window
        self.max_keys = max_keys
        self._addrs: OrderedDict[str, _Count] = OrderedDict()
        self._users: OrderedDict[str, _Count] = OrderedDict()

    def _count(self, table: OrderedDict[str, _Count], key: str) -> int:
        c = table.get(key)
        if c is None:
            return 0
        if self.clock.seconds() - c.last > self.window:
            del table[key]
            return 0
        return c.n

    def _bump(self, table: OrderedDict[str, _Count], key: str) -> None:
        n = self._count(table, key)
        table[key] = _Count(n + 1, self.clock.seconds())
        table.move_to_end(key)
        while len(table) > self.max_keys:
            table.popitem(last=False)

    def _delay(self, n: int, cap: float) -> float:
        if n < self.free_failures:
            return 0.0
        return float(min(cap, self.base_delay * 2 ** min(n - self.free_failures, 30)))

    def refused(self, host: str) -> bool:
        """Whether to refuse attempts from ``host`` outright (too many recent failures)."""
        return self._count(self._addrs, host) >= self.addr_refuse_after

    def delay(self, host: str, user: str) -> float:
        """Seconds to hold the next attempt of ``user`` from ``host`` before checking it."""
        return max(self._delay(self._count(self._addrs, host), self.addr_max_delay),
                   self._delay(self._count(self._users, user), self.user_max_delay))

    def failed(self, host: str, user: str) -> None:
        self._bump(self._addrs, host)
        self._bump(self._users, user)

    def succeeded(self, host: str, user: str) -> None:
        """A good password clears the user's count (not the address's: one valid account
        must not let an address try other accounts' passwords faster)."""
        self._users.pop(user, None)
