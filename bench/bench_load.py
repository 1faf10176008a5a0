"""HTTP load on loopback against the real gunicorn set-up: ``POST /v1/reconcile`` with 10 claims
versus the trivial ``GET /healthz``, in the same run, on the same server.

Starts ``python -m service.deploy.serve`` (the launcher and ``service/deploy/gunicorn_conf.py``, as
``make run`` and the image do; JSON access logs written to a file) on a free 127.0.0.1 port,
warms it up, then loads each route for ``--duration`` seconds at each concurrency level of
``--connections`` (default: one connection per CPU, then the target's 10) and prints, per level,
requests/s, p50 and p99 latency, the server's CPU per request and the throughput ratio beside
the trivial route's figures, and the targets of issue 15 at 10 connections:

* reconcile throughput ≥ 40 % of the trivial route's;
* reconcile p99 ≤ 50 ms.

It then says where a reconcile request's time goes inside the app, from the server's own
Prometheus histograms over the run (wall clock per request, averaged over the workers): in
``models.reconcile`` (the estimator with its findings and words) and in the rest of the app
(parsing, schemas, JSON, hooks), beside the trivial route's time in the app. What the app does
not see (gunicorn's accept, parse and write) is the difference to the CPU per request.

The load generator is wrk (Debian: ``apt-get install wrk``) with a Lua script for the POST;
without it, a thread-pool generator in Python (``--python``), which needs CPU of its own and so
understates both rates. Everything is bounded: loopback only, a fixed duration per route, and
at most ``--max-requests`` per route for the Python generator. On a machine other work shares,
compare the ratios and the CPU per request, not the rates.

Several set-ups can be compared in one run: ``--workers 2,5`` starts one server per value,
``--tree DIR`` (repeated) one per checkout of the service (``--tree ../main --tree .`` compares
a branch with main; each server runs its own tree's code, with this tree's probe), and
``--rounds N`` loads every server and level N times, in turn (the order reversed every other
round), printing each figure's median over the rounds. Other work on a shared machine comes and
goes within seconds; interleaved short loads let every set-up see the same share of it, where
two runs one after the other do not.

    .venv/bin/python bench/bench_load.py [--duration 10] [--connections 2,10] [--workers N[,M]]
                                         [--tree DIR ...] [--rounds R]
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
THROUGHPUT_TARGET = 0.40
P99_TARGET_MS = 50.0
#: Concurrency at which the targets hold (issue 15).
TARGET_CONNECTIONS = 10


def ten_claims() -> dict[str, Any]:
    """A 10-claim request of mixed kinds, hedges and grades (a realistic newsroom case)."""
    grades = ["A", "B", "C", "D", "E", "F", "B", "C", "D", None]
    sources: list[dict[str, Any]] = []
    for i, grade in enumerate(grades):
        source: dict[str, Any] = {"id": f"s{i}", "name": f"Source {i}", "type": "media_outlet"}
        if grade is not None:
            source["reliability"] = grade
        sources.append(source)
    claims: list[dict[str, Any]] = [
        {"source": "s0", "kind": "point", "value": 4800},
        {"source": "s1", "kind": "point", "value": 5200, "hedge": "about"},
        {"source": "s2", "kind": "range", "low": 4000, "high": 6500},
        {"source": "s3", "kind": "at_least", "value": 3000},
        {"source": "s4", "kind": "at_most", "value": 9000},
        {"source": "s5", "kind": "point", "value": 12000, "hedge": "could_be"},
        {"source": "s6", "kind": "point", "value": 5100, "origin": "wire-1"},
        {"source": "s7", "kind": "point", "value": 5100, "origin": "wire-1"},
        {"source": "s8", "kind": "point", "value": 4500, "sd": 400},
        {"source": "s9", "kind": "point", "value": 6000, "hedge": "rumour"},
    ]
    return {"question": "Load test", "unit": "people", "sources": sources, "claims": claims}


@dataclasses.dataclass(frozen=True)
class Result:
    """One route under load."""

    route: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float = 0.0
    app_ms: float = 0.0  # mean wall time in the app (Flask), from the server's metrics
    core_ms: float = 0.0  # of which in models.reconcile


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(port: int, workers: str, logs: Path, data: Path,
                 probe: Path | None = None, tree: Path = ROOT) -> subprocess.Popen[bytes]:
    """The service as deployed, from the checkout ``tree``; with ``probe``, under this
    checkout's ``bench/load_probe.py`` too, which writes its accounts there."""
    env = dict(os.environ)
    # The server imports its own tree's code (its working directory), never this one's.
    env.pop("PYTHONPATH", None)
    env.update(
        HOST="127.0.0.1",
        PORT=str(port),
        DATA_DIR=str(data),
        WEB_CONCURRENCY=workers,
        LOG_FORMAT="json",
        DATABASE_URL="",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    extra: list[str] = []
    if probe is not None:
        probe.mkdir(parents=True, exist_ok=True)
        env["PROBE_DIR"] = str(probe)
        # A second --config replaces the first: the probe's file imports the service's.
        extra = ["--config", str(ROOT / "bench" / "load_probe.py")]
    with logs.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.deploy.serve", *extra],
            cwd=tree,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode}); see {logs}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as reply:
                if reply.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the server did not become ready within 120 s")


def workers_of(logs: Path) -> int:
    return sum('"Booting worker with pid' in line for line in logs.read_text().splitlines())


def server_cpu_seconds(master: int) -> float:
    """User + system CPU seconds of gunicorn's master and workers so far (Linux /proc).

    CPU per request does not depend on what else the machine runs, unlike requests/s, so it
    is the figure to compare between a busy and an idle machine.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if master in (pid, ppid):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


# --- The server's own account (Prometheus, summed over the workers) --------------------------

_SAMPLE = re.compile(r"^(\w+)(?:\{([^}]*)\})? (\S+)$")


def scrape(url: str) -> dict[tuple[str, str], float]:
    """(sample name, labels) -> value of the server's /metrics, histograms' sums and counts."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as reply:
        text = reply.read().decode()
    samples: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match and match.group(1).endswith(("_sum", "_count")):
            samples[(match.group(1), match.group(2) or "")] = float(match.group(3))
    return samples


def mean_ms(before: dict[tuple[str, str], float], after: dict[tuple[str, str], float],
            metric: str, label: str = "") -> float:
    """Mean of histogram ``metric`` over the samples added between two scrapes, in ms, over
    the label sets containing ``label``."""
    def total(samples: dict[tuple[str, str], float], suffix: str) -> float:
        return sum(v for (name, labels), v in samples.items()
                   if name == metric + suffix and label in labels)
    count = total(after, "_count") - total(before, "_count")
    return (total(after, "_sum") - total(before, "_sum")) * 1e3 / count if count else 0.0


# --- wrk ----------------------------------------------------------------------------------------

_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def run_wrk(url: str, route: str, body: bytes | None, connections: int, duration: int,
            scratch: Path) -> Result:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if body is not None:
        script = scratch / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(body.decode())}\n"
        )
        command += ["-s", str(script)]
    output = subprocess.run(
        [*command, url + route], capture_output=True, text=True, check=True,
        timeout=duration + 30,
    ).stdout
    requests, seconds = re.search(r"(\d+) requests in ([\d.]+\w+)", output).groups()  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)$", output, re.M).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)$", output, re.M).group(1)  # type: ignore[union-attr]
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read \d+, write \d+, timeout (\d+)",
                              output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += int(socket_errors.group(1)) + int(socket_errors.group(2))
    return Result(route, int(requests), _ms(seconds) / 1e3, float(rps), _ms(p50), _ms(p99),
                  errors)


# --- Python fallback ----------------------------------------------------------------------------


def run_python(port: int, route: str, body: bytes | None, connections: int, duration: int,
               max_requests: int) -> Result:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + duration
    remaining = [max_requests]

    def client() -> None:
        nonlocal errors
        while time.monotonic() < stop_at:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            started = time.perf_counter()
            try:
                headers = {"Content-Type": "application/json"} if body else {}
                connection.request("POST" if body else "GET", route, body=body, headers=headers)
                status = connection.getresponse().status
                ok = status == 200
            except OSError:
                ok = False
            finally:
                connection.close()
            with lock:
                latencies.append(time.perf_counter() - started)
                errors += not ok

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=connections) as pool:
        for _ in range(connections):
            pool.submit(client)
    seconds = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100)
    return Result(route, len(latencies), seconds, len(latencies) / seconds, cuts[49] * 1e3,
                  cuts[98] * 1e3, errors)


# --- Main ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Server:
    """One gunicorn set-up under test (``--workers`` and ``--tree`` may name several)."""

    setting: str  # WEB_CONCURRENCY as given
    tree: Path  # the checkout it runs
    process: subprocess.Popen[bytes]
    url: str
    workers: int
    probe: Path | None = None
    #: connections -> one (/healthz, reconcile) pair per round
    runs: dict[int, list[tuple[Result, Result]]] = dataclasses.field(default_factory=dict)


def median_result(results: list[Result]) -> Result:
    """Each figure's median over rounds (requests and errors summed)."""
    def med(field: str) -> float:
        return float(statistics.median(getattr(r, field) for r in results))
    return Result(results[0].route, sum(r.requests for r in results),
                  sum(r.seconds for r in results), med("rps"), med("p50_ms"), med("p99_ms"),
                  sum(r.errors for r in results), med("cpu_ms"), med("app_ms"), med("core_ms"))


def load_once(server: Server, connections: int, body: bytes, duration: int, scratch: Path,
              use_wrk: bool, max_requests: int) -> tuple[Result, Result]:
    """``/healthz`` then reconcile on ``server`` at ``connections``, with the server's CPU."""
    pair = []
    port = int(server.url.rsplit(":", 1)[1])
    for route, payload in (("/healthz", None), ("/v1/reconcile", body)):
        before = scrape(server.url)
        cpu = server_cpu_seconds(server.process.pid)
        if use_wrk:
            result = run_wrk(server.url, route, payload, connections, duration, scratch)
        else:
            result = run_python(port, route, payload, connections, duration, max_requests)
        cpu_ms = (server_cpu_seconds(server.process.pid) - cpu) * 1e3 / result.requests
        after = scrape(server.url)
        pair.append(dataclasses.replace(
            result, cpu_ms=cpu_ms,
            app_ms=mean_ms(before, after, "triangulate_http_request_duration_seconds",
                           f'route="{route}"'),
            core_ms=mean_ms(before, after, "triangulate_reconcile_duration_seconds"),
        ))
    return pair[0], pair[1]


def report(server: Server, rounds: int) -> bool:
    """Print one set-up's figures (medians over rounds); True when a request failed."""
    plural = "" if server.workers == 1 else "s"
    print(f"{server.tree}: WEB_CONCURRENCY={server.setting}: {server.workers} sync worker{plural}"
          + (f"; medians over {rounds} interleaved rounds" if rounds > 1 else ""))
    print(f"{'conns':>5}  {'route':<15}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'errors':>8}{'CPU ms/req':>12}{'ratio':>8}")
    failed = False
    medians: dict[int, tuple[Result, Result, float]] = {}
    for connections, pairs in server.runs.items():
        trivial = median_result([t for t, _ in pairs])
        reconcile = median_result([r for _, r in pairs])
        # The median of each round's ratio: both routes of a round saw the same other work.
        ratio = statistics.median(r.rps / t.rps for t, r in pairs)
        medians[connections] = (trivial, reconcile, ratio)
        for r in (trivial, reconcile):
            shown = f"{ratio:>8.0%}" if r is reconcile else ""
            print(f"{connections:>5}  {r.route:<15}{r.requests:>10}{r.rps:>9.0f}"
                  f"{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.errors:>8}{r.cpu_ms:>12.2f}{shown}")
            failed = failed or r.errors > 0
    if TARGET_CONNECTIONS in medians:
        trivial, reconcile, ratio = medians[TARGET_CONNECTIONS]
        print(f"at {TARGET_CONNECTIONS} connections: reconcile {reconcile.rps:.0f} req/s / "
              f"/healthz {trivial.rps:.0f} req/s = {ratio:.0%} (target ≥ "
              f"{THROUGHPUT_TARGET:.0%}: {'met' if ratio >= THROUGHPUT_TARGET else 'NOT met'}); "
              f"reconcile p99 {reconcile.p99_ms:.1f} ms beside /healthz p99 "
              f"{trivial.p99_ms:.1f} ms (target ≤ {P99_TARGET_MS:.0f} ms: "
              f"{'met' if reconcile.p99_ms <= P99_TARGET_MS else 'NOT met'})")
        connections = TARGET_CONNECTIONS
    else:
        print(f"the targets are set at {TARGET_CONNECTIONS} connections, not measured here")
        connections = max(medians)
    trivial, reconcile, _ = medians[connections]
    print(f"server CPU per request ({connections} connections): reconcile "
          f"{reconcile.cpu_ms:.2f} ms, trivial {trivial.cpu_ms:.2f} ms; CPU-bound ratio "
          f"{trivial.cpu_ms / reconcile.cpu_ms:.0%} (what the throughput ratio tends to on an "
          "otherwise idle machine)")
    if reconcile.app_ms:
        print(f"time in the app per request (wall clock, server metrics): reconcile "
              f"{reconcile.app_ms:.2f} ms = {reconcile.core_ms:.2f} ms in models.reconcile "
              f"(estimator, findings, words) + {reconcile.app_ms - reconcile.core_ms:.2f} ms in "
              f"the rest of the app; /healthz {trivial.app_ms:.2f} ms")
    if server.probe is not None:
        report_probe(server)
    return failed


def report_probe(server: Server) -> None:
    """The workers' own account (``--probe``), per route, over the whole run."""
    totals: dict[str, list[float]] = {}
    stages: dict[str, dict[str, float]] = {}
    for account in server.probe.glob("*.json") if server.probe else ():
        document = json.loads(account.read_text())
        for route, row in document["totals"].items():
            totals[route] = [a + b for a, b in zip(totals.get(route, [0] * len(row)), row,
                                                   strict=True)]
        for route, seconds in document["stages"].items():
            for stage, value in seconds.items():
                stages.setdefault(route, {})[stage] = stages.get(route, {}).get(stage, 0.0) + value
    server_ms: dict[str, float] = {}
    for number, route in enumerate(("/healthz", "/v1/reconcile")):
        if route not in totals or not totals[route][0]:
            continue
        requests, span, collector, *generations = totals[route]
        pairs = [pair[number] for runs in server.runs.values() for pair in runs]
        whole = sum(r.cpu_ms * r.requests for r in pairs) / sum(r.requests for r in pairs)
        server_ms[route] = whole
        print(f"probe, {route}: {span * 1e3 / requests:.2f} ms of CPU per request from "
              f"gunicorn's pre_request to post_request (app, response, access log) of "
              f"{whole:.2f} ms for the server; garbage collection "
              f"{collector * 1e3 / requests:.4f} ms per request "
              f"({', '.join(str(int(g)) for g in generations)} collections of generations "
              f"0, 1, 2 in {int(requests)} requests)")
        print("  " + split_line(stages.get(route, {}), span, whole / 1e3 * requests, requests))
    reconcile = stages.get("/v1/reconcile", {})
    if "/healthz" in server_ms and reconcile.get("models.reconcile"):
        requests = totals["/v1/reconcile"][0]
        estimator = (reconcile["models.reconcile"] - reconcile.get("words", 0.0)) * 1e3 / requests
        print(f"ceiling: with everything but the estimator free, reconcile would cost "
              f"{estimator:.2f} ms of CPU and reach at most "
              f"{server_ms['/healthz'] / estimator:.0%} of /healthz's throughput (CPU-bound)")


def split_line(stages: dict[str, float], span: float, server: float, requests: float) -> str:
    """One route's CPU per request by stage (``bench/load_probe.py``'s :data:`STAGES`), ms.

    The stages nest: ``app`` holds every other, ``models.reconcile`` holds ``words``. What is
    left of ``app`` is Flask's and flask-smorest's own dispatch; what is left of the hooks'
    span, gunicorn writing the response and the access line; what is left of the server's CPU,
    gunicorn's accept, parse and close, and the arbiter.
    """
    per = {stage: seconds * 1e3 / requests for stage, seconds in stages.items()}
    app = per.pop("app", 0.0)
    model = per.pop("models.reconcile", 0.0)
    words = per.pop("words", 0.0)
    parts = dict(per)
    if model:
        parts["estimator (models.reconcile less words)"] = model - words
        parts["words"] = words
    parts["rest of the app (dispatch)"] = app - model - sum(per.values())
    parts["gunicorn: response, access log"] = (span * 1e3 / requests) - app
    parts["gunicorn: accept, parse, close"] = (server - span) * 1e3 / requests
    return "; ".join(f"{name} {ms:.3f}" for name, ms in parts.items() if ms) + " (ms)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per route (≤ 60)")
    parser.add_argument(
        "--connections",
        default="",
        help="comma-separated concurrency levels (default: CPUs, then 2 per worker)",
    )
    parser.add_argument("--workers", default="auto",
                        help="WEB_CONCURRENCY of the server; several (2,5) start one server "
                             "each, loaded in turn")
    parser.add_argument("--tree", action="append", type=Path, default=[],
                        help="a checkout of the service to start (repeat to compare several; "
                             "default: this one)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="times every server and level is loaded, interleaved (≤ 20)")
    parser.add_argument("--probe", action="store_true",
                        help="account in the workers for CPU per route and garbage collection "
                             "(bench/load_probe.py)")
    parser.add_argument("--python", action="store_true", help="use the Python generator")
    parser.add_argument("--max-requests", type=int, default=50_000,
                        help="per route, Python generator only")
    args = parser.parse_args()
    duration = min(max(args.duration, 1), 60)
    rounds = min(max(args.rounds, 1), 20)
    use_wrk = not args.python and shutil.which("wrk") is not None
    settings = [w.strip() for w in args.workers.split(",") if w.strip()] or ["auto"]
    trees = [tree.resolve() for tree in args.tree] or [ROOT]
    for tree in trees:
        if not (tree / "service" / "deploy" / "serve.py").is_file():
            parser.error(f"--tree {tree}: not a checkout of the service")

    body = json.dumps(ten_claims()).encode()
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="triangulate-bench-") as tmp:
        scratch = Path(tmp)
        try:
            setups = [(tree, setting) for tree in trees for setting in settings]
            for n, (tree, setting) in enumerate(setups):
                port = free_port()
                logs = scratch / f"server-{n}.log"
                probe = scratch / f"probe-{n}" if args.probe else None
                process = start_server(port, setting, logs, scratch / f"data-{n}", probe, tree)
                servers.append(Server(setting, tree, process, f"http://127.0.0.1:{port}", 0,
                                      probe))
                servers[-1].workers = workers_of(logs)
            levels = [int(c) for c in args.connections.split(",") if c.strip()] or sorted(
                {os.cpu_count() or 1, TARGET_CONNECTIONS}
            )
            for server in servers:
                for _ in range(20 * server.workers):  # every worker has served both routes
                    urllib.request.urlopen(server.url + "/healthz", timeout=5).read()
                    urllib.request.urlopen(urllib.request.Request(
                        server.url + "/v1/reconcile", data=body,
                        headers={"Content-Type": "application/json"}), timeout=5).read()
            # Short loads of every set-up in turn, the order reversed every other round: on a
            # machine other work shares, each then sees the same spread of that work.
            for number in range(rounds):
                for server in servers if number % 2 == 0 else servers[::-1]:
                    for connections in levels:
                        server.runs.setdefault(connections, []).append(load_once(
                            server, connections, body, duration, scratch, use_wrk,
                            args.max_requests))
        finally:
            for server in servers:
                server.process.send_signal(signal.SIGTERM)
            for server in servers:
                server.process.wait(60)

        generator = "wrk, 1 thread" if use_wrk else "python threads"
        load = os.getloadavg()[0]
        print(f"{os.cpu_count()} CPUs (load average {load:.1f} after the run); generator: "
              f"{generator}; {duration} s per route and level; loopback")
        failed = False
        for server in servers:  # in the scratch directory still: the probe's files are there
            failed = report(server, rounds) or failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
