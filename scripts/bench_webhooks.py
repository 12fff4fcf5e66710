#!/usr/bin/env python3
"""Times Shopify webhook deliveries against a running server: N distinct deliveries of the
documented example order (each a new X-Shopify-Webhook-Id, so each is applied), from C
concurrent senders, then prints throughput and latency percentiles.

    SWITCHBOARD_SHOPIFY_WEBHOOK_SECRET=s ./target/release/switchboard serve --demo &
    python3 scripts/bench_webhooks.py --url http://127.0.0.1:8080 --secret s -n 2000 -c 8

Only the standard library; nothing is downloaded.
"""

import argparse
import base64
import hashlib
import hmac
import json
import pathlib
import statistics
import threading
import time
import urllib.request
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--secret", required=True)
    ap.add_argument("-n", type=int, default=2000, help="deliveries")
    ap.add_argument("-c", type=int, default=8, help="concurrent senders")
    args = ap.parse_args()

    template = json.loads((ROOT / "tests/fixtures/shopify/order.json").read_text())
    endpoint = args.url.rstrip("/") + "/api/v1/integrations/shopify/webhooks"
    latencies, failures, lock = [], [], threading.Lock()
    counter = iter(range(args.n))

    def sender():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            order = dict(template)
            # A distinct order each time: its own id and number.
            order["id"] = 10_000_000 + i
            order["name"] = f"#B{i}"
            body = json.dumps(order).encode()
            sig = base64.b64encode(hmac.new(args.secret.encode(), body, hashlib.sha256).digest()).decode()
            request = urllib.request.Request(endpoint, data=body, method="POST", headers={
                "content-type": "application/json",
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                "X-Shopify-Hmac-Sha256": sig,
            })
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as r:
                    error = None if r.status == 200 else f"status {r.status}"
            except Exception as e:  # noqa: BLE001 - counted and shown
                error = str(e)
            elapsed = time.perf_counter() - started
            with lock:
                if error is None:
                    latencies.append(elapsed)
                else:
                    failures.append(error)

    started = time.perf_counter()
    threads = [threading.Thread(target=sender) for _ in range(args.c)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000  # noqa: E731
    print(f"{len(latencies)} applied, {len(failures)} failed in {wall:.1f} s: {len(latencies) / wall:.0f} deliveries/s")
    if latencies:
        print(f"latency ms: p50 {pct(0.5):.1f}  p95 {pct(0.95):.1f}  p99 {pct(0.99):.1f}  mean {statistics.mean(latencies) * 1000:.1f}")
    if failures:
        print("first failure:", failures[0])


if __name__ == "__main__":
    main()
