"""Latency histograms: fixed buckets, cheap to fill, merged across worker processes."""

from __future__ import annotations

# 0.1 ms buckets below 100 ms, 1 ms buckets below 10 s, 10 ms buckets below 120 s; beyond
# that everything lands in the last bucket. Resolution stays within 1% of the value.
FINE_LIMIT_MS = 100.0
MEDIUM_LIMIT_MS = 10_000.0
COARSE_LIMIT_MS = 120_000.0
_FINE = int(FINE_LIMIT_MS * 10)
_MEDIUM = int(MEDIUM_LIMIT_MS - FINE_LIMIT_MS)
_COARSE = int((COARSE_LIMIT_MS - MEDIUM_LIMIT_MS) / 10)
BUCKETS = _FINE + _MEDIUM + _COARSE + 1


def bucket_of(ms: float) -> int:
    if ms < FINE_LIMIT_MS:
        return int(ms * 10) if ms > 0 else 0
    if ms < MEDIUM_LIMIT_MS:
        return _FINE + int(ms - FINE_LIMIT_MS)
    if ms < COARSE_LIMIT_MS:
        return _FINE + _MEDIUM + int((ms - MEDIUM_LIMIT_MS) / 10)
    return BUCKETS - 1


def bucket_floor_ms(index: int) -> float:
    """The lowest latency a bucket holds (what percentiles report)."""
    if index < _FINE:
        return index / 10
    if index < _FINE + _MEDIUM:
        return FINE_LIMIT_MS + (index - _FINE)
    return MEDIUM_LIMIT_MS + (index - _FINE - _MEDIUM) * 10


class Histogram:
    """Counts per latency bucket plus the exact maximum."""

    __slots__ = ("counts", "max_ms")

    def __init__(self) -> None:
        self.counts = [0] * BUCKETS
        self.max_ms = 0.0

    def add(self, ms: float) -> None:
        self.counts[bucket_of(ms)] += 1
        if ms > self.max_ms:
            self.max_ms = ms

    @property
    def total(self) -> int:
        return sum(self.counts)

    def merge(self, other: Histogram) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.max_ms = max(self.max_ms, other.max_ms)

    def percentile(self, fraction: float) -> float | None:
        """The latency (ms) at or below which `fraction` of the samples fall; None if empty."""
        total = self.total
        if not total:
            return None
        wanted = fraction * total
        running = 0
        for index, count in enumerate(self.counts):
            running += count
            if count and running >= wanted:
                return bucket_floor_ms(index)
        return self.max_ms

    def to_sparse(self) -> tuple[dict[int, int], float]:
        """A compact form to send between processes."""
        return {i: c for i, c in enumerate(self.counts) if c}, self.max_ms

    @classmethod
    def from_sparse(cls, sparse: tuple[dict[int, int], float]) -> Histogram:
        histogram = cls()
        counts, histogram.max_ms = sparse
        for index, count in counts.items():
            histogram.counts[index] = count
        return histogram
