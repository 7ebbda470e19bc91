"""`make run`: prepare the embedded database, load demo data, start every process, print URLs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    """Migrate, seed, then supervise the web app (and the processes later issues add)."""
    env = {**os.environ, "FLASK_APP": "wsgi:app"}
    (ROOT / "var").mkdir(exist_ok=True)
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
    subprocess.run([*flask, "demo", "seed"], cwd=ROOT, env=env, check=True)
    port = env.get("PORT", "5000")
    processes = [
        subprocess.Popen([*flask, "run", "--host", "127.0.0.1", "--port", port], cwd=ROOT, env=env)
    ]
    _print_banner(port)
    return _supervise(processes)


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
