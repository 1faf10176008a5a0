"""Soak: mixed load on loopback against real gunicorn, checking errors and worker memory.

Starts gunicorn (``service/deploy/gunicorn_conf.py``, ``service.deploy.wsgi:app``) on a free
127.0.0.1 port
with a fresh SQLite ``DATA_DIR`` and an API key, then ``--threads`` client threads send, for
``--duration`` seconds and at most ``--max-requests`` requests in all, a mix of

* 50 % ``POST /v1/reconcile`` (the troop case),
* 30 % reads: ``GET /v1/questions/{id}/estimate`` of a question with :data:`READ_CLAIMS`
  claims, and the first page of ``GET …/claims`` of the question written to,
* 20 % writes (``POST /v1/questions/{id}/claims``) to a second question.

What one request reads stays the same size however long the run, so a worker's memory growth
measures leaks rather than a growing working set (an earlier version estimated the question
it wrote to: after 60 s each estimate reconciled ~1,300 claims and RSS grew with them).

The resident memory (VmRSS) of every worker is read after a warm-up (every route served a few
times, a fifth of the duration) and at the end. Prints requests, requests/s, p50/p99 latency,
errors and each worker's memory; exits 1 on any error (a status other than the expected one,
or a dropped connection), on a replaced worker, or when a worker grew by ``--max-growth`` (10 %)
or more after the warm-up.

    .venv/bin/python bench/bench_soak.py [--duration 60] [--threads 4] [--workers 2]

CI runs ``--duration 10`` (tests/deploy/test_soak.py); ``make soak`` runs the 60 s version.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import ROOT, child_pids

TROOP = {
    "question": "North Korean soldiers in Russia", "unit": "soldiers", "scale": "log",
    "sources": [{"id": "nis", "reliability": "B"}, {"id": "zelensky", "reliability": "C"},
                {"id": "anon", "reliability": "F"}],
    "claims": [{"source": "nis", "kind": "point", "value": 1500},
               {"source": "zelensky", "kind": "at_most", "value": 10000},
               {"source": "anon", "kind": "point", "value": 12000, "hedge": "about"}],
}


#: Claims of the question whose estimate is read.
READ_CLAIMS = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_key(data_dir: Path) -> str:
    from service import create_app
    from service.config import defaults
    from service.http.database import get_database
    from service.store.repository import Repository

    app = create_app({**defaults(), "DATA_DIR": str(data_dir), "METRICS_ENABLED": False})
    with app.app_context(), get_database().session() as session:
        key = Repository(session).create_key("soak", cost=2**10)
    with app.app_context():
        get_database().dispose()
    return key


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class Client:
    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.auth = {"Authorization": f"Bearer {key}"}

    def call(self, method: str, path: str, body: object | None = None,
             auth: bool = False) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Content-Type": "application/json", **(self.auth if auth else {})}
            data = None if body is None else json.dumps(body).encode()
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--max-growth", type=float, default=0.10)
    args = parser.parse_args(argv)

    from service.config import SETTINGS

    # Only this script's settings: none inherited (a caller's stale PROMETHEUS_MULTIPROC_DIR,
    # DATABASE_URL) for the key made here nor for the server.
    for name in [s.name for s in SETTINGS] + ["TRIANGULATE_OWNED_METRICS_DIR"]:
        os.environ.pop(name, None)
    tmp = Path(tempfile.mkdtemp(prefix="triangulate-soak-"))
    env = dict(os.environ)
    port = free_port()
    env.update(HOST="127.0.0.1", PORT=str(port), DATA_DIR=str(tmp / "data"),
               WEB_CONCURRENCY=str(args.workers), LOG_LEVEL="WARNING", WRITE_RATE_LIMIT="off",
               METRICS_ENABLED="false")
    os.environ.update(DATA_DIR=str(tmp / "data"))
    key = make_key(tmp / "data")
    log = (tmp / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "service" / "deploy" /
        "gunicorn_conf.py"),
         "service.deploy.wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        return soak(args, Client(port, key), server)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def soak(args: argparse.Namespace, client: Client, server: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.call("GET", "/healthz")[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            print("soak: the server did not start", file=sys.stderr)
            return 1
        time.sleep(0.2)
    assert client.call("POST", "/v1/sources", {"id": "wire", "reliability": "B"}, True)[0] == 201
    status, reply = client.call("POST", "/v1/questions", {"title": "Soak writes"}, True)
    assert status == 201
    written = json.loads(reply)["id"]
    # Reads go to a question of fixed size, so that the work (and memory) of a read does not
    # grow with the writes: worker memory then measures leaks, not a growing working set.
    status, reply = client.call("POST", "/v1/questions", {"title": "Soak reads"}, True)
    assert status == 201
    question = json.loads(reply)["id"]
    seeding = random.Random(0)
    for _ in range(READ_CLAIMS):
        body = {"source": "wire", "kind": "point", "value": seeding.uniform(1000, 20000)}
        path = f"/v1/questions/{question}/claims"
        assert client.call("POST", path, body, True)[0] == 201

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    count = [0]

    def one(rng: random.Random) -> None:
        pick = rng.random()
        if pick < 0.5:
            method, path, body, auth, want = "POST", "/v1/reconcile", TROOP, False, 200
        elif pick < 0.8:
            target, tail = ((question, "estimate") if rng.random() < 0.5
                            else (written, "claims?page_size=20"))
            method, path, body, auth, want = "GET", f"/v1/questions/{target}/{tail}", None, \
                False, 200
        else:
            value = rng.uniform(1000, 20000)
            method, path, auth, want = "POST", f"/v1/questions/{written}/claims", True, 201
            body = {"source": "wire", "kind": "point", "value": value}
        start = time.perf_counter()
        try:
            status, reply = client.call(method, path, body, auth)
        except (OSError, http.client.HTTPException) as exc:
            status, reply = -1, repr(exc).encode()
        elapsed = time.perf_counter() - start
        ok = status == want
        with lock:
            count[0] += 1
            latencies.append(elapsed)
            if not ok:
                errors.append(f"{method} {path} -> {status} {reply[:120]!r}")

    def run(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set() and count[0] < args.max_requests:
            one(rng)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(args.threads)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(max(2.0, args.duration / 5))
    workers = child_pids(server.pid)
    before = {pid: rss_kib(pid) for pid in workers}
    served_at_warmup = count[0]
    time.sleep(max(0.0, args.duration - (time.monotonic() - started)))
    after = {pid: rss_kib(pid) for pid in child_pids(server.pid)}
    stop.set()
    for thread in threads:
        thread.join(60)
    wall = time.monotonic() - started

    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(0.99 * (len(ordered) - 1))] * 1000
    print(f"soak: {count[0]} requests in {wall:.1f} s ({count[0] / wall:.0f}/s) from "
          f"{args.threads} threads on {args.workers} workers; p50 {p50:.1f} ms, p99 {p99:.1f} ms;"
          f" {len(errors)} errors")
    failed = bool(errors)
    for message in errors[:5]:
        print(f"soak: error: {message}")
    if set(after) != set(before):
        print(f"soak: workers replaced during the run: {sorted(before)} -> {sorted(after)}")
        failed = True
    for pid in sorted(before):
        if pid in after:
            growth = (after[pid] - before[pid]) / before[pid]
            print(f"soak: worker {pid}: {before[pid] / 1024:.1f} MiB after warm-up "
                  f"({served_at_warmup} requests), {after[pid] / 1024:.1f} MiB at the end "
                  f"({growth:+.1%})")
            failed |= growth >= args.max_growth
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
