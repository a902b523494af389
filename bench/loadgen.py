"""A lean HTTP/1.1 load generator for the benchmarks (压力测试客户端), run as its own process.

``python bench/loadgen.py SPEC.json`` reads what to send from a JSON file and prints one JSON
line with the figures of each phase. In a phase, each of ``concurrency`` keep-alive
connections sends a request, waits for the whole response and sends the next (a closed
loop: ``concurrency`` respondents pressing "send" as fast as the server answers), until
``requests`` responses or ``seconds``, whichever comes first. The phases run one after
the other on the same connections; phases of the same name are slices of one measurement
and are reported together (alternating short slices of two endpoints lets both meet the
same load from anything else on the machine). It only ever connects to the loopback
address given.

It is an ``asyncio.Protocol`` on uvloop when installed, so one response costs it one
callback and a few tens of microseconds: on a 2-core machine the server, not the client,
must be what is measured. Latencies are taken with ``time.perf_counter`` (monotonic). The
output carries a check of its own figures by Little's law: in a closed loop the mean
latency × the rate equals the number of connections (``littles_law`` ≈ 1.0).

SPEC: ``{"host", "port", "concurrency", "phases": [{"name", "requests", "seconds",
"method": "GET"|"POST", "path": "/healthz" | "paths": [...], "headers": {...}, "body"}]}``
— with ``paths``, each request takes the next path in order (a code each), and the phase
ends when they are used up.
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
    """One keep-alive connection: sends the phase's next request when a response is whole."""

    def __init__(self):
        self.phase: _Phase | None = None
        self.buffer = b""
        self.started = 0.0
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def send(self):
        request = self.phase.next_request()
        if request is None:
            self.phase.finished()
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
        self.phase.record(int(head[9:12]), time.perf_counter() - self.started)
        self.send()

    def connection_lost(self, exc):
        if self.phase is not None and not self.phase.done.done():
            self.phase.done.set_exception(ConnectionError(f"the server closed a connection: {exc}"))


class _Phase:
    """One measured phase: which requests, for how long, and what came back."""

    def __init__(self, spec: dict, host: str, connections: int):
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.limit = int(spec.get("requests") or 10**9)
        self.seconds = float(spec.get("seconds") or 60)
        self.deadline = 0.0
        self.sent = 0
        self.paths = spec.get("paths")
        headers = "".join(f"{k}: {v}\r\n" for k, v in (spec.get("headers") or {}).items())
        self.body = (spec.get("body") or "").encode()
        method = spec.get("method", "GET")
        self.head = f"{method} %s HTTP/1.1\r\nHost: {host}\r\n{headers}"
        if self.body or method == "POST":
            self.head += f"Content-Length: {len(self.body)}\r\n"
        self.head += "\r\n"
        self.fixed = None if self.paths else (self.head % spec["path"]).encode() + self.body
        self.busy = connections
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

    def finished(self):
        self.busy -= 1
        if self.busy == 0 and not self.done.done():
            self.done.set_result(None)


async def run(spec: dict) -> list[dict]:
    """Open ``concurrency`` connections one by one (so that several server processes sharing
    the listening socket each accept some), then run each phase on those same connections:
    phases compared with each other meet the same spread of connections over processes."""
    loop = asyncio.get_running_loop()
    concurrency = int(spec["concurrency"])
    connections: list[_Connection] = []
    for _ in range(concurrency):
        _transport, connection = await loop.create_connection(
            _Connection, spec["host"], int(spec["port"]))
        connections.append(connection)
        await asyncio.sleep(0.005)
    merged: dict[str, dict] = {}  # phases of one name add up: slices of one measurement
    for phase_spec in spec["phases"]:
        phase = _Phase(phase_spec, spec["host"], concurrency)
        started = time.perf_counter()
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        phase.deadline = started + phase.seconds
        for connection in connections:
            connection.phase = phase
            connection.send()
        await asyncio.wait_for(phase.done, timeout=phase.seconds + 60)
        used = resource.getrusage(resource.RUSAGE_SELF)
        total = merged.setdefault(phase_spec.get("name", ""), {
            "latencies": [], "seconds": 0.0, "statuses": {}, "client_cpu_s": 0.0, "sent": []})
        total["sent"].append(phase.sent)
        total["latencies"] += phase.latencies
        total["seconds"] += time.perf_counter() - started
        total["client_cpu_s"] += (used.ru_utime + used.ru_stime) - (cpu.ru_utime + cpu.ru_stime)
        for status, n in phase.statuses.items():
            total["statuses"][status] = total["statuses"].get(status, 0) + n
    results = []
    for name, total in merged.items():
        ordered = sorted(total["latencies"])
        count = len(ordered)
        elapsed = total["seconds"]
        rate = count / elapsed if elapsed else 0.0
        mean = sum(ordered) / count if count else 0.0
        results.append({
            "name": name, "requests": count, "seconds": elapsed, "rate": rate,
            "mean_ms": mean * 1000, "p50_ms": _percentile(ordered, .5) * 1000,
            "p90_ms": _percentile(ordered, .9) * 1000, "p99_ms": _percentile(ordered, .99) * 1000,
            "max_ms": (ordered[-1] if ordered else 0) * 1000, "statuses": total["statuses"],
            "client_cpu_s": total["client_cpu_s"], "littles_law": mean * rate / concurrency,
            "sent": total["sent"]})  # requests of each slice (the first n of its paths)
    for connection in connections:
        connection.phase = None
        connection.transport.close()
    return results


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
