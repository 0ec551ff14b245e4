"""Prometheus text exposition (format 0.0.4), written by hand: request counters, a latency
histogram, and gauges from the controller's store rendered at scrape time."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _num(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    return repr(float(x)) if not float(x).is_integer() else str(int(x))


def family(name: str, kind: str, help_text: str,
           samples: Iterable[tuple[Mapping[str, str], float]]) -> str:
    """One metric family: HELP, TYPE and its samples."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{_labels(lab)} {_num(v)}" for lab, v in samples]
    return "\n".join(lines) + "\n"


class RequestMetrics:
    """Requests by route template and status, and their latency [s]."""

    def __init__(self) -> None:
        self.count: dict[tuple[str, str, str], int] = defaultdict(int)
        self.hist: dict[tuple[str, str], list[int]] = {}
        self.sum_s: dict[tuple[str, str], float] = defaultdict(float)
        self.rate_limited = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one finished request."""
        self.count[method, route, str(status)] += 1
        counts = self.hist.setdefault((method, route), [0] * (len(BUCKETS_S) + 1))
        for i, edge in enumerate(BUCKETS_S):
            if seconds <= edge:
                counts[i] += 1
                break
        else:
            counts[-1] += 1
        self.sum_s[method, route] += seconds

    def render(self) -> str:
        """The request families as text."""
        out = family("offgrid_api_requests_total", "counter", "HTTP requests by route and status",
                     (({"method": m, "route": r, "status": s}, n)
                      for (m, r, s), n in sorted(self.count.items())))
        lines = ["# HELP offgrid_api_request_duration_seconds Request latency",
                 "# TYPE offgrid_api_request_duration_seconds histogram"]
        for (m, r), counts in sorted(self.hist.items()):
            cum = 0
            for edge, c in zip((*BUCKETS_S, math.inf), counts, strict=True):
                cum += c
                le = "+Inf" if math.isinf(edge) else repr(edge)
                lines.append("offgrid_api_request_duration_seconds_bucket"
                             f"{_labels({'method': m, 'route': r, 'le': le})} {cum}")
            lab = _labels({"method": m, "route": r})
            lines.append(f"offgrid_api_request_duration_seconds_sum{lab} {_num(self.sum_s[m, r])}")
            lines.append(f"offgrid_api_request_duration_seconds_count{lab} {cum}")
        out += "\n".join(lines) + "\n"
        out += family("offgrid_api_rate_limited_total", "counter",
                      "requests refused by the per-key rate limit", [({}, self.rate_limited)])
        return out
