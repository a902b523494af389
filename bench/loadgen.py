"""A lean HTTP/1.1 load generator for the benchmarks (压力测试客户端), run as its own process.

``python bench/loadgen.py SPEC.json`` reads what to send from a JSON file and prints one JSON
line with the figures. Each of ``concurrency`` keep-alive connections sends a request, waits
for the whole response and sends the next (a closed loop: ``concurrency`` respondents
pressing "send" as fast as the server answers). It stops after ``requests`` responses or
``seconds``, whichever comes first, and only ever connects to the loopback address it is
given.

It is an ``asyncio.Protocol`` on uvloop when installed, so one response costs it one
callback and a few tens of microseconds: on a 2-core machine the server, not the client,
must be what is measured. Latencies are taken with ``time.perf_counter`` (monotonic). The
output carries a check of its own figures by Little's law: in a closed loop the mean
latency × the rate equals the number of connections (``littles_law`` ≈ 1.0).

SPEC: ``{"host", "port", "concurrency", "requests", "seconds", "method": "GET"|"POST",
"path": "/healthz" | "paths": [...], "headers": {...}, "body": "..."}`` — with ``paths``,
each request takes the next path in order (a code each), and the run ends when they are
used up.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


class _Connection(asyncio.Protocol):
    def __init__(self, run: _Run):
        self.run = run
        self.buffer = b""
        self.started = 0.0
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        self.send()

    def send(self):
        request = self.run.next_request()
        if request is None:
            self.transport.close()
            return
        self.buffer = b""
        self.started = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes):
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end]
        length = 0
        at = head.lower().find(b"\r\ncontent-length:")
        if at >= 0:
            stop = head.find(b"\r\n", at + 2)
            length = int(head[at + 17:stop if stop >= 0 else None])
        if len(self.buffer) < end + 4 + length:
            return
        self.run.record(int(head[9:12]), time.perf_counter() - self.started)
        self.send()

    def connection_lost(self, exc):
        self.run.closed(self)


class _Run:
    def __init__(self, spec: dict):
        self.spec = spec
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.limit = int(spec.get("requests") or 10**9)
        self.deadline = time.perf_counter() + float(spec.get("seconds") or 60)
        self.sent = 0
        self.paths = spec.get("paths")
        headers = "".join(f"{k}: {v}\r\n" for k, v in (spec.get("headers") or {}).items())
        body = (spec.get("body") or "").encode()
        self.head = f"{spec.get('method', 'GET')} %s HTTP/1.1\r\nHost: {spec['host']}\r\n{headers}"
        if body or spec.get("method") == "POST":
            self.head += f"Content-Length: {len(body)}\r\n"
        self.head += "\r\n"
        self.body = body
        self.fixed = None if self.paths else (self.head % spec["path"]).encode() + body
        self.open = 0
        self.done = asyncio.get_running_loop().create_future()

    def next_request(self) -> bytes | None:
        if self.sent >= self.limit or time.perf_counter() >= self.deadline:
            return None
        if self.paths is not None:
            if self.sent >= len(self.paths):
                return None
            request = (self.head % self.paths[self.sent]).encode() + self.body
        else:
            request = self.fixed
        self.sent += 1
        return request

    def record(self, status: int, latency: float):
        self.latencies.append(latency)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def closed(self, _connection):
        self.open -= 1
        if self.open == 0 and not self.done.done():
            self.done.set_result(None)


async def run(spec: dict) -> dict:
    loop = asyncio.get_running_loop()
    state = _Run(spec)
    concurrency = int(spec["concurrency"])
    started = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    state.open = concurrency
    for _ in range(concurrency):
        await loop.create_connection(lambda: _Connection(state), spec["host"], int(spec["port"]))
    await asyncio.wait_for(state.done, timeout=float(spec.get("seconds") or 60) + 60)
    elapsed = time.perf_counter() - started
    used = resource.getrusage(resource.RUSAGE_SELF)
    ordered = sorted(state.latencies)
    count = len(ordered)
    rate = count / elapsed if elapsed else 0.0
    mean = sum(ordered) / count if count else 0.0
    return {"requests": count, "seconds": elapsed, "rate": rate, "mean_ms": mean * 1000,
            "p50_ms": _percentile(ordered, .5) * 1000, "p90_ms": _percentile(ordered, .9) * 1000,
            "p99_ms": _percentile(ordered, .99) * 1000, "max_ms": (ordered[-1] if ordered else 0) * 1000,
            "statuses": state.statuses,
            "client_cpu_s": (used.ru_utime + used.ru_stime) - (cpu.ru_utime + cpu.ru_stime),
            "littles_law": mean * rate / concurrency if concurrency else 0.0}


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as fh:
        spec = json.load(fh)
    if spec["host"] not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loadgen only sends to the loopback interface")
    try:
        import uvloop
        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.run
    print(json.dumps(runner(run(spec))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
