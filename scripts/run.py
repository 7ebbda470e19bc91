"""`make run`: prepare the embedded database, load demo data, start every process, print URLs."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_STATION = "PP-DEMO0001"  # created by `flask demo seed`
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
LOCAL_STRIPE_PORT = "8420"


def main() -> int:
    """Migrate, seed, then supervise the web app, the OCPP gateway and a simulated charger."""
    env = {**os.environ, "FLASK_APP": "wsgi:app"}
    (ROOT / "var").mkdir(exist_ok=True)
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
    subprocess.run([*flask, "demo", "seed"], cwd=ROOT, env=env, check=True)
    port = env.get("PORT", "5000")
    redis_up = _redis_up(env.get("REDIS_URL", DEFAULT_REDIS))
    if "GATEWAY_BUS" not in env and redis_up:
        env["GATEWAY_BUS"] = "redis"  # the web app's "start charging" then reaches the gateway
    gateway_port = env.get("GATEWAY_PORT", "9000")
    gateway_url = f"ws://127.0.0.1:{gateway_port}/ocpp"
    processes = [*_payments(env, port), _worker(env, flask, redis_up)]
    processes += [
        subprocess.Popen([*flask, "run", "--host", "127.0.0.1", "--port", port], cwd=ROOT, env=env),
        # The OCPP gateway on the same database (GATEWAY_PORT_IMPL defaults to it); it also
        # reserves chargers for bookings that start.
        subprocess.Popen([sys.executable, "-m", "app.gateway"], cwd=ROOT, env=env),
        # A simulated charger for the first demo listing; it charges when remotely started.
        subprocess.Popen(
            [*flask, "station", "simulate", DEMO_STATION, "--url", gateway_url], cwd=ROOT, env=env
        ),
    ]
    _print_banner(port)
    print(f"  OCPP:     {gateway_url}/<station id>   simulated charger: {DEMO_STATION}")
    bus = env.get("GATEWAY_BUS", "local")
    note = "" if bus == "redis" else " (the web app's start/stop charging needs Redis)"
    print(f"  commands: {bus} bus{note}\n", flush=True)
    return _supervise(processes)


def _payments(env: dict[str, str], port: str) -> list[subprocess.Popen[bytes]]:
    """With no Stripe keys, start a local Stripe-compatible server and point the app at it."""
    if env.get("STRIPE_SECRET_KEY"):
        return []
    stripe_port = env.get("STRIPE_LOCAL_PORT", LOCAL_STRIPE_PORT)
    env["STRIPE_SECRET_KEY"] = "sk_test_plugpool_local"  # noqa: S105 -- localstripe takes any key
    env["STRIPE_API_BASE"] = f"http://127.0.0.1:{stripe_port}"
    env.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_" + secrets.token_hex(16))
    command = [
        sys.executable, "-m", "app.payments.localserver", "--port", stripe_port,
        "--state-file", str(ROOT / "var" / "localstripe.pickle"),
        "--webhook-url", f"http://127.0.0.1:{port}/webhooks/stripe",
    ]  # fmt: skip
    print(f"  payments: local Stripe-compatible server on {env['STRIPE_API_BASE']}", flush=True)
    return [subprocess.Popen(command, cwd=ROOT, env=env)]


def _worker(env: dict[str, str], flask: list[str], redis_up: bool) -> subprocess.Popen[bytes]:
    """The job runner: a Celery worker with beat on Redis, or a plain loop without Redis."""
    if redis_up:
        worker_env = {**env, "CELERY_ALWAYS_EAGER": "false"}
        command = [
            sys.executable, "-m", "celery", "-A", "celery_worker.celery",
            "worker", "-B", "--concurrency", "1", "--loglevel", "WARNING",
            "--schedule", str(ROOT / "var" / "celerybeat-schedule"),
        ]  # fmt: skip
        return subprocess.Popen(command, cwd=ROOT, env=worker_env)
    return subprocess.Popen([*flask, "bookings", "run-jobs", "--every", "60"], cwd=ROOT, env=env)


def _redis_up(url: str) -> bool:
    """Tell whether Redis answers (then web and gateway share a command bus through it)."""
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _print_banner(port: str) -> None:
    base = f"http://127.0.0.1:{port}"
    print(f"\nPlugPool is starting on {base}")
    print(f"  health:   {base}/healthz")
    print(f"  API docs: {base}/api/v1/docs  (OpenAPI: {base}/api/v1/openapi.json)")
    print(f"  log in:   {base}/login   owner portal: {base}/owner/listings")
    print(f"  drivers:  {base}/chargers (search and map)   bookings: {base}/bookings")
    print("  demo logins and chargers are printed above by `flask demo seed`\n", flush=True)


def _supervise(processes: list[subprocess.Popen[bytes]]) -> int:
    def stop(*_: object) -> None:
        for process in processes:
            process.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    stop()
    for process in processes:
        process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
