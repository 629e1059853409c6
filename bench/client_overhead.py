"""Client overhead: sequential sends through KivraClient vs a bare httpx POST of the same bytes, same sandbox.

Run: .venv/bin/python bench/client_overhead.py [--sends 300]
Prints per-call times and their ratio; the goal is a ratio within 1.3 (auth cached, connection reused).
Both loops run in this process against one sandbox with no added latency, interleaved in rounds so machine noise
hits both alike.
"""
import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kivra.sandbox.config import SandboxConfig  # noqa: E402
from kivra.sandbox.server import start_in_thread  # noqa: E402
from kivra.sender_api import KivraClient  # noqa: E402
from tests.kivra_samples import payslip  # noqa: E402

USER = "191212121212"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sends", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=float, default=1.3)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request would drown the figures

    config = SandboxConfig(duplicate_control=True, rate_limit_per_recipient_per_minute=10**9)
    with start_in_thread(config) as sandbox, KivraClient(sandbox.url, "sandbox-client", "sandbox-secret") as client:
        tenant = client.create_tenant("Demo AB", "5568402266").key
        body = payslip(USER)
        client.send_content(tenant, body)  # authenticate and open the connection
        token = httpx.post(f"{sandbox.url}/v1/auth", data={"grant_type": "client_credentials"},
                           auth=("sandbox-client", "sandbox-secret")).json()["access_token"]
        bare = httpx.Client(base_url=sandbox.url)
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json", "accept": "application/json"}
        path = f"/v2/tenant/{tenant}/content"
        bare.post(path, content=body, headers=headers).raise_for_status()

        bare_times, client_times = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            for _ in range(args.sends):
                bare.post(path, content=body, headers=headers).raise_for_status()
            bare_times.append((time.perf_counter() - start) / args.sends)
            start = time.perf_counter()
            for _ in range(args.sends):
                client.send_content(tenant, body)
            client_times.append((time.perf_counter() - start) / args.sends)
        bare.close()

    bare_ms, client_ms = statistics.median(bare_times) * 1000, statistics.median(client_times) * 1000
    ratio = client_ms / bare_ms
    print(f"payload {len(body)} bytes, {args.rounds} rounds x {args.sends} sequential sends each way")
    print(f"bare httpx POST   : {bare_ms:.3f} ms per call (median of rounds)")
    print(f"KivraClient send  : {client_ms:.3f} ms per call (median of rounds)")
    print(f"ratio client/bare : {ratio:.3f}  (goal <= {args.limit})")
    return 0 if ratio <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
