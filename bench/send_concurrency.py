"""Send concurrency: the sender's CPU per content call with C calls in flight, a thread per call on one httpx.Client
(what the workers do) against one asyncio event loop of C tasks on one httpx.AsyncClient (issue 19's idea for C = 64).

Run: .venv/bin/python bench/send_concurrency.py [--concurrency 8 32] [--calls 2000] [--rounds 2] [--latency-ms 50]
Each call POSTs 46 000 bytes (a payslip's payload) to a stand-in for Kivra that answers after the latency: a WSGI app
in this file under gunicorn's threaded worker (keeping connections open, as Kivra does and the sandbox's --keep-alive
does) at nice 19, so that only the sender's side is measured. Each way runs in a fresh process (C * 2 calls to warm
up, then `--calls` timed), the ways alternating for `--rounds`; the figure is the process's CPU time per call, the
median over the rounds. The thread way is the baseline: the asyncio way's ratio to it is the result.
"""
import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dispatch_send import Child, child_env, lowered  # noqa: E402
from tests.servers import _wait_until, free_port  # noqa: E402

BODY = b"0" * 46_000
HEADERS = {"authorization": "Bearer bench", "content-type": "application/json", "accept": "application/json"}
PATH = "/v2/tenant/bench/content"
LATENCY_SECONDS = int(os.environ.get("BENCH_LATENCY_MS", "50")) / 1000  # the stand-in's: main() passes --latency-ms


def slow_kivra(environ, start_response):
    """Reads the body, waits the latency (BENCH_LATENCY_MS), answers as Kivra's content call does."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    time.sleep(LATENCY_SECONDS)
    body = b'{"key": "15f3b5b1-6f1c-4d2b-9a3e-2f1d0c9b8a7e"}'
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _answers(url: str) -> bool:
    try:
        return httpx.post(url + PATH, content=b"{}", timeout=5).is_success
    except httpx.TransportError:
        return False


def with_threads(url: str, concurrency: int, calls: int) -> None:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    left, lock = [calls], threading.Lock()
    with httpx.Client(base_url=url, limits=limits, timeout=10) as client:
        def run():
            while True:
                with lock:
                    if not left[0]:
                        return
                    left[0] -= 1
                client.post(PATH, content=BODY, headers=HEADERS).raise_for_status()
        threads = [threading.Thread(target=run) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def with_asyncio(url: str, concurrency: int, calls: int) -> None:
    async def main():
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        left = [calls]
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
            async def run():
                while left[0]:
                    left[0] -= 1
                    (await client.post(PATH, content=BODY, headers=HEADERS)).raise_for_status()
            await asyncio.gather(*(run() for _ in range(concurrency)))
    asyncio.run(main())


WAYS = {"threads": with_threads, "asyncio": with_asyncio}


def child(way: str, url: str, concurrency: int, calls: int) -> None:
    """One way in this process: warm up, then print the CPU milliseconds per call and the calls per second."""
    WAYS[way](url, concurrency, concurrency * 2)
    cpu, wall = time.process_time(), time.perf_counter()
    WAYS[way](url, concurrency, calls)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{cpu / calls * 1000:.4f} {calls / wall:.1f}")


def measure(way: str, url: str, concurrency: int, calls: int) -> tuple[float, float]:
    out = subprocess.run([sys.executable, __file__, "--child", way, url, str(concurrency), str(calls)],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--child", nargs=4, metavar=("WAY", "URL", "C", "CALLS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        way, url, concurrency, calls = args.child
        child(way, url, int(concurrency), int(calls))
        return 0

    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    log = Path(tempfile.mkdtemp()) / "slow_kivra.log"
    server = Child(lowered(19) + [gunicorn, "--worker-class", "gthread", "--threads", str(max(args.concurrency) * 2),
                                  "--workers", "1", "--keep-alive", "30", "--bind", f"127.0.0.1:{port}",
                                  "--no-control-socket", "bench.send_concurrency:slow_kivra"],
                   child_env(BENCH_LATENCY_MS=args.latency_ms), log)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until(lambda: _answers(url), server.popen, log, "the stand-in for Kivra")
        print(f"{args.calls} calls of {len(BODY)} bytes per way and round, {args.rounds} rounds, Kivra's latency "
              f"{args.latency_ms} ms; CPU of the sender's process per call (median of rounds), calls per second")
        for concurrency in args.concurrency:
            figures = {way: [] for way in WAYS}
            for _ in range(args.rounds):
                for way in WAYS:
                    figures[way].append(measure(way, url, concurrency, args.calls))
            cpu = {way: statistics.median(cpu for cpu, _rate in runs) for way, runs in figures.items()}
            rate = {way: statistics.median(rate for _cpu, rate in runs) for way, runs in figures.items()}
            ratio = cpu["asyncio"] / cpu["threads"]
            print(f"C = {concurrency}: threads {cpu['threads']:.2f} ms ({rate['threads']:.0f}/s), asyncio "
                  f"{cpu['asyncio']:.2f} ms ({rate['asyncio']:.0f}/s); asyncio / threads {ratio:.2f}", flush=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
