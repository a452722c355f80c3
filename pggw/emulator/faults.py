"""Fault injection and request statistics (``/_emulator/faults``, ``/_emulator/stats``)."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from pggw.emulator.errors import bad_request

MODES = ("fail", "drop", "apply-then-fail")


@dataclass
class FaultRule:
    """One rule: requests whose method and path match are delayed, failed, or dropped."""

    path: str = "*"
    method: str | None = None
    status: int | None = None
    retry_after: float | None = None
    probability: float = 1.0
    count: int | None = None
    latency_ms: float = 0.0
    mode: str = "fail"
    fired: int = 0

    @classmethod
    def parse(cls, raw: Any) -> FaultRule:
        if not isinstance(raw, dict):
            raise bad_request("Each fault rule must be a JSON object")
        known = {
            "method",
            "path",
            "status",
            "retryAfter",
            "probability",
            "count",
            "latencyMs",
            "mode",
        }
        unknown = set(raw) - known
        if unknown:
            raise bad_request(f"Unknown fault rule fields: {sorted(unknown)}")
        mode = raw.get("mode", "fail")
        if mode not in MODES:
            raise bad_request(f"mode must be one of {list(MODES)}")
        status = raw.get("status")
        if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
            raise bad_request("status must be an HTTP status code")
        if mode == "apply-then-fail" and status is None:
            raise bad_request("apply-then-fail needs a status")
        probability = raw.get("probability", 1.0)
        if not isinstance(probability, int | float) or not 0 <= probability <= 1:
            raise bad_request("probability must be between 0 and 1")
        count = raw.get("count")
        if count is not None and (not isinstance(count, int) or count < 0):
            raise bad_request("count must be a non-negative integer")
        method = raw.get("method")
        return cls(
            path=str(raw.get("path", "*")),
            method=method.upper() if isinstance(method, str) else None,
            status=status,
            retry_after=raw.get("retryAfter"),
            probability=float(probability),
            count=count,
            latency_ms=float(raw.get("latencyMs", 0) or 0),
            mode=mode,
        )

    @property
    def acts(self) -> bool:
        """Whether the rule changes the outcome (rather than only adding latency)."""
        return self.mode == "drop" or self.status is not None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method not in ("*", method):
            return False
        return fnmatchcase(path, self.path)

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "mode": self.mode, "fired": self.fired}
        for key, value in (
            ("method", self.method),
            ("status", self.status),
            ("retryAfter", self.retry_after),
            ("probability", self.probability),
            ("count", self.count),
            ("latencyMs", self.latency_ms),
        ):
            if value is not None:
                out[key] = value
        return out


@dataclass
class Decision:
    """What the faults say about one request."""

    latency_ms: float = 0.0
    rule: FaultRule | None = None


class Faults:
    def __init__(self, rng: random.Random | None = None) -> None:
        self.rules: list[FaultRule] = []
        self._rng = rng or random.Random()

    def set(self, raw: Any, replace: bool = False) -> list[FaultRule]:
        if isinstance(raw, dict) and "rules" in raw:
            raw = raw["rules"]
        if isinstance(raw, dict):
            raw = [raw]
        if not isinstance(raw, list):
            raise bad_request("Expected a JSON list of fault rules")
        parsed = [FaultRule.parse(r) for r in raw]
        if replace:
            self.rules = parsed
        else:
            self.rules.extend(parsed)
        return parsed

    def clear(self) -> None:
        self.rules = []

    def decide(self, method: str, path: str) -> Decision:
        decision = Decision()
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            if rule.count is not None and rule.fired >= rule.count:
                continue
            if rule.acts and decision.rule is not None:
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            rule.fired += 1
            decision.latency_ms += rule.latency_ms
            if rule.acts:
                decision.rule = rule
        return decision


class Stats:
    """Request counts by path and status, for tests and demos."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.by_path: defaultdict[str, defaultdict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.by_method: defaultdict[str, int] = defaultdict(int)
        self.total = 0
        self.injected = 0
        self.dropped = 0
        self.throttled = 0
        self.max_in_flight = 0

    def record(self, method: str, path: str, status: int | str) -> None:
        self.total += 1
        self.by_method[method] += 1
        self.by_path[path][str(status)] += 1

    def dump(self, in_flight: int) -> dict[str, Any]:
        return {
            "total": self.total,
            "injected": self.injected,
            "dropped": self.dropped,
            "throttled": self.throttled,
            "inFlight": in_flight,
            "maxInFlight": self.max_in_flight,
            "methods": dict(self.by_method),
            "paths": {path: dict(counts) for path, counts in sorted(self.by_path.items())},
        }
