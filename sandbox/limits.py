"""Throttling and injected faults: the two ways the stand-in refuses a well-formed call."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.replies import Reply, fail, ratelimited

INFRA_FAULTS = frozenset({"ratelimited", "server_error", "unavailable", "timeout"})
_ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Fault:
    method: str
    kind: str
    remaining: int
    retry_after: int = 1
    delay: float = 0.0
    channel: str | None = None

    def reply(self) -> Reply | None:
        """The forced answer, or None when the call should proceed (after ``delay``)."""
        if self.kind == "timeout":
            return None
        if self.kind == "ratelimited":
            return ratelimited(self.retry_after)
        if self.kind == "server_error":
            return Reply({"ok": False, "error": "internal_error"}, 500)
        if self.kind == "unavailable":
            return Reply({"ok": False, "error": "service_unavailable"}, 503)
        return fail(self.kind)


def check_fault_kind(kind: str) -> None:
    if kind not in INFRA_FAULTS and not _ERROR_CODE.match(kind):
        raise ValueError(f"fault must be one of {sorted(INFRA_FAULTS)} or a Slack error code, got {kind!r}")


class FaultBook:
    """Faults fire in injection order; each is used up after ``remaining`` matching calls."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def take(self, method: str, channel: str | None) -> Fault | None:
        for fault in self._faults:
            if fault.method == method and (fault.channel is None or fault.channel == channel):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()


@dataclass
class _Bucket:
    tokens: float
    updated: float


class PostRate:
    """Per-channel token bucket for chat.postMessage (Slack: ~1/s per channel, short bursts)."""

    def __init__(
        self, per_second: float | None = 1.0, burst: int = 10, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self.configure(per_second, burst)

    def configure(self, per_second: float | None, burst: int) -> None:
        if per_second is not None and per_second <= 0:
            raise ValueError("per_second must be positive, or None to disable the limit")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.per_second = per_second
        self.burst = burst
        self._buckets.clear()

    def reset(self) -> None:
        self._buckets.clear()

    def take(self, channel: str) -> int | None:
        """Consumes one token; returns the Retry-After seconds when the bucket is empty."""
        if self.per_second is None:
            return None
        now = self._clock()
        bucket = self._buckets.setdefault(channel, _Bucket(float(self.burst), now))
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        # Retry-After is whole seconds; rounding up guarantees a token exists after waiting.
        return max(1, math.ceil((1.0 - bucket.tokens) / self.per_second))
