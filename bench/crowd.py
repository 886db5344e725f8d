"""Measure the status page under a crowd while its checks keep running.

The script starts a local HTTP target and `statuspage serve` on 127.0.0.1. It sends a bounded
number of requests to `/` and `/api/v2/summary.json` from concurrent clients. Then it reads the
results table to see whether checks kept their interval and their measured latency.

    python bench/crowd.py --requests 20000 --concurrency 50
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import itertools
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx

CHECK_INTERVAL = 3  # seconds between runs of the benchmark's check


class Target(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status": "success"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return int(listener.getsockname()[1])


async def crowd(base: str, total: int, concurrency: int) -> list[float]:
    paths = ["/", "/api/v2/summary.json"]
    latencies: list[float] = []
    counter = iter(range(total))

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as session:
            for number in counter:
                started = time.perf_counter()
                response = await session.get(paths[number % 2])
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()

    target = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Target)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    work = Path(tempfile.mkdtemp(prefix="statuspage-bench-"))
    config = work / "checks.toml"
    config.write_text(
        f'[site]\nname = "Bench"\ntimezone = "Asia/Tokyo"\n\n[[components]]\nid = "api"\n'
        f'name = "API"\n[components.check]\ntype = "http"\n'
        f'url = "http://127.0.0.1:{target.server_address[1]}/"\n'
        f"interval = {CHECK_INTERVAL}\ntimeout = 1\n",
        encoding="utf-8",
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "statuspage",
            "serve",
            "--config",
            str(config),
            "--data-dir",
            str(work / "data"),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        time.sleep(2 * CHECK_INTERVAL)  # let a few check runs happen before the load

        started = time.perf_counter()
        load_start = time.time()
        latencies = asyncio.run(crowd(base, args.requests, args.concurrency))
        elapsed = time.perf_counter() - started
        load_end = time.time()
    finally:
        server.terminate()
        server.wait(timeout=15)
        target.shutdown()

    with sqlite3.connect(work / "data" / "statuspage.db") as db:
        rows = db.execute(
            "select time, latency_ms from results where component_id = 'api' order by time"
        ).fetchall()
    during = [
        (datetime.fromisoformat(t).timestamp(), ms)
        for t, ms in rows
        if load_start <= datetime.fromisoformat(t).timestamp() <= load_end
    ]
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(during)]
    latencies.sort()
    print(f"requests: {len(latencies)} in {elapsed:.1f} s = {len(latencies) / elapsed:.0f} req/s")
    print(
        f"request latency: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms"
    )
    if gaps:
        print(f"check runs during the load: {len(during)}, gaps {min(gaps):.2f}-{max(gaps):.2f} s")
        print(f"check latency during the load: max {max(ms for _, ms in during):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
