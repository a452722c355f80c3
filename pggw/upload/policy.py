"""Retry timing and adaptive concurrency."""

from __future__ import annotations

import contextlib
import random
from collections import deque

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

__all__ = ["AdaptiveLimiter", "Backoff", "sleep"]


def sleep(reactor: IReactorTime, seconds: float) -> Deferred[None]:
    """A Deferred firing after ``seconds`` (cancellable)."""
    d: Deferred[None] = Deferred(lambda _: call.cancel())
    call = reactor.callLater(max(0.0, seconds), d.callback, None)
    return d


class Backoff:
    """Capped exponential backoff with full jitter: ``uniform(0, min(cap, base·2^n))``,
    but never less than a server's ``Retry-After`` (itself clamped to ``max_retry_after``)."""

    def __init__(
        self,
        base: float = 0.5,
        cap: float = 60.0,
        *,
        max_retry_after: float = 600.0,
        rng: random.Random | None = None,
    ) -> None:
        self.base = base
        self.cap = cap
        self.max_retry_after = max_retry_after
        self._rng = rng or random.Random()

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.base * (2 ** min(attempt, 62)))
        wait = self._rng.uniform(0.0, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait


class AdaptiveLimiter:
    """A concurrency limit shared by the users of one CDF project (AIMD).

    ``acquire`` waits until fewer than ``limit`` requests are in flight. A 429 halves the
    limit (at most once per ``cooldown`` seconds); each success adds
    ``1/(limit·growth_rounds)`` until ``maximum``, so the limit grows back by about one per
    ``growth_rounds`` rounds of requests.
    """

    def __init__(
        self,
        reactor: IReactorTime,
        initial: int = 8,
        *,
        minimum: int = 1,
        maximum: int | None = None,
        cooldown: float = 1.0,
        growth_rounds: float = 4.0,
    ) -> None:
        self._reactor = reactor
        self.minimum = max(1, minimum)
        self.maximum = max(self.minimum, maximum if maximum is not None else initial)
        self.limit = float(min(max(initial, self.minimum), self.maximum))
        self.cooldown = cooldown
        self.growth_rounds = growth_rounds
        self.lowest = self.limit
        self.in_flight = 0
        self.max_in_flight = 0
        self.shrinks = 0
        self._waiters: deque[Deferred[None]] = deque()
        self._last_shrink = -1e18

    @property
    def current(self) -> int:
        return int(self.limit)

    def acquire(self) -> Deferred[None]:
        d: Deferred[None] = Deferred(self._cancel)
        if not self._waiters and self.in_flight < self.current:
            self._take()
            d.callback(None)
        else:
            self._waiters.append(d)
        return d

    def _cancel(self, d: Deferred[None]) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(d)

    def _take(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.current:
            d = self._waiters.popleft()
            self._take()
            d.callback(None)

    def success(self) -> None:
        if self.limit < self.maximum:
            step = 1.0 / (self.limit * self.growth_rounds)
            self.limit = min(float(self.maximum), self.limit + step)
            self._wake()

    def throttled(self) -> None:
        now = self._reactor.seconds()
        if now - self._last_shrink < self.cooldown:
            return
        self._last_shrink = now
        self.limit = max(float(self.minimum), self.limit / 2)
        self.lowest = min(self.lowest, self.limit)
        self.shrinks += 1
