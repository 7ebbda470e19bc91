"""Instructions per HTTP request of one gunicorn worker, counted by callgrind.

    python -m bench.instructions --reuse DATABASE [--path search|livez] [--worker-class gthread]

Starts gunicorn (one worker) under `valgrind --tool=callgrind`, sends warm-up requests over
one keep-alive connection, then a marker request, --requests more, and the marker again: the
instructions the worker ran between the two markers, over the requests, are the worker's cost
of one request (gunicorn, Flask, the app; not PostgreSQL, not the client). callgrind_control
cannot reach a forked worker, so the marker makes the worker call getloadavg() (a gunicorn
pre_request hook, bench/instructions_hook.py) and callgrind dumps before each such call.
Unlike CPU time the count does not move with the machine's load: it is what an A/B of the
app's own work compares.
Needs a database kept by `python -m bench.search --keep`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.search import ADMIN_URL, ROOT, _spec, wait_until_up, worker_arguments

MARKER = "/__callgrind_marker"  # bench/instructions_hook.py: the worker calls getloadavg()
# Every thousandth charger, in id order (without ORDER BY a synchronised scan may start
# anywhere: another run would get other searches).
SAMPLE_SQL = (
    "SELECT latitude::float8, longitude::float8 FROM locations WHERE id % 1000 = 7 ORDER BY id"
)


def main() -> None:
    args = _arguments()
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=args.reuse)
    pg_url = make_url(ADMIN_URL).set(database=args.reuse).render_as_string(hide_password=False)
    with psycopg.connect(pg_url) as connection:
        points = [(lat, lon) for lat, lon in connection.execute(SAMPLE_SQL)]
    rng = random.Random(args.seed)
    paths = [_path(args, points, rng) for _ in range(args.warmup + args.requests)]
    out = Path(tempfile.mkdtemp(prefix="plugpool-callgrind-"))
    env = {
        **os.environ,
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "PLUGPOOL_ENV": "default",
        "PYTHONHASHSEED": "0",  # the same dict and set orders in every run
    }
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}/cg.%p",
        "--dump-instr=no",
        "--dump-before=getloadavg",
        str(Path(sys.executable).parent / "gunicorn"),
        "--config",
        str(Path(__file__).with_name("instructions_hook.py")),
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        "1",
        *worker_arguments(args.worker_class, args.threads),
        "--timeout",
        "600",
        "--log-level",
        "warning",
        "wsgi:app",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(args.port, "/livez", 600, server)
        worker = _worker(server.pid)
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=600)
        _send(connection, paths[: args.warmup], args)
        _mark(connection, worker, out, 1, args)
        _send(connection, paths[args.warmup :], args)
        total = _mark(connection, worker, out, 2, args)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    per_request = total / args.requests
    print(
        json.dumps(
            {
                "path": args.path,
                "worker_class": args.worker_class,
                "requests": args.requests,
                "instructions_per_request": round(per_request),
                "keep_alive": not args.close,
                "profile": str(out / f"cg.{worker}.2"),
            }
        )
    )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", required=True, metavar="DATABASE")
    parser.add_argument("--path", choices=["search", "livez"], default="search")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=60)
    parser.add_argument("--radius", type=int, default=25_000)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--close", action="store_true", help="a new connection per request")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--seed", type=int, default=20261207)
    return parser.parse_args()


def _path(args: argparse.Namespace, points: list[tuple[float, float]], rng: random.Random) -> str:
    if args.path == "livez":
        return "/livez"
    return "/api/v1/chargers?" + urllib.parse.urlencode(_spec(points, rng).params(args.radius))


def _send(
    connection: http.client.HTTPConnection,
    paths: list[str],
    args: argparse.Namespace,
    ok: tuple[int, ...] = (200,),
) -> None:
    for path in paths:
        if args.close:
            connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=600)
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        if response.status not in ok:
            raise RuntimeError(f"{path}: {response.status} {body[:300]!r}")
        if args.close:
            connection.close()


def _worker(master: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for task in Path(f"/proc/{master}/task").glob("*/children"):
            children = task.read_text().split()
            if children:
                return int(children[0])
        time.sleep(0.5)
    raise RuntimeError("no gunicorn worker")


def _mark(
    connection: http.client.HTTPConnection,
    worker: int,
    out: Path,
    part: int,
    args: argparse.Namespace,
) -> int:
    """Send the marker (callgrind dumps the worker's counters); the instructions of the part
    that ended, i.e. since the previous marker."""
    _send(connection, [MARKER], args, ok=(404,))
    name = out / f"cg.{worker}.{part}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if name.exists():
            found = re.search(r"^totals: (\d+)", name.read_text(), re.MULTILINE)
            if found:
                return int(found.group(1))
        time.sleep(0.5)
    raise RuntimeError(f"callgrind did not write {name}")


if __name__ == "__main__":
    main()
