"""tempstats: a tiny statistics package, shipped as a wheel so the example has a pinned pip dependency."""

__version__ = "1.0.0"


def mean(values):
    values = list(values)
    return sum(values) / len(values)


def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def stdev(values):
    """Sample standard deviation (n - 1)."""
    values = list(values)
    if len(values) < 2:
        return 0.0
    m = mean(values)
    return (sum((v - m) ** 2 for v in values) / (len(values) - 1)) ** 0.5
