"""Run localstripe (a local Stripe-compatible server) for `make run` and for the test suite.

`python -m localstripe` listens on every interface and keeps its state in a fixed,
world-writable /tmp/localstripe.pickle that it unpickles at start. This wrapper serves the
same aiohttp app on loopback only and keeps the state in a file we choose, or nowhere.
localstripe is a dev dependency: it is imported only when the server really starts.
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
# localstripe accepts any key that starts with sk_; this one says where it comes from.
LOCAL_SECRET_KEY = "sk_test_plugpool_local"  # noqa: S105 (not a secret: localstripe only)


def start_localstripe(
    port: int,
    *,
    host: str = "127.0.0.1",
    state_file: Path | None = None,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    log_file: Path | None = None,
) -> subprocess.Popen:
    """Start localstripe on host:port as a child process and return it (not yet ready)."""
    cmd = [sys.executable, "-m", "app.payments.localserver", "--host", host, "--port", str(port)]
    env = dict(os.environ)
    if state_file is not None:
        cmd += ["--state-file", str(state_file)]
    if webhook_url is not None:
        cmd += ["--webhook-url", webhook_url]
        # Through the environment, not argv, which any local user can read with ps.
        env["STRIPE_WEBHOOK_SECRET"] = webhook_secret or ""
    if log_file is None:
        return _spawn(cmd, env, subprocess.DEVNULL)
    with open(log_file, "ab") as out:
        # The child inherits its own copy of the descriptor; ours can close.
        return _spawn(cmd, env, out)


def _spawn(cmd: list[str], env: dict[str, str], out: Any) -> subprocess.Popen:
    """Start cmd from the project root with stdout and stderr sent to out."""
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


def wait_until_ready(process: subprocess.Popen, base_url: str, timeout: float = 60.0) -> None:
    """Block until localstripe answers an authenticated GET, or raise RuntimeError.

    The deadline is generous: it ends at the first answer (or at once if the process exits),
    and starting the server takes a few seconds when the machine is busy.
    """
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {LOCAL_SECRET_KEY}"}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with code {process.returncode}")
        try:
            answer = requests.get(f"{base_url}/v1/events?limit=1", headers=headers, timeout=1)
            if answer.status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet, or still starting
        time.sleep(0.05)
    raise RuntimeError(f"localstripe did not answer at {base_url} within {timeout} s")


def register_webhook(
    base_url: str, webhook_id: str, url: str, secret: str, events: list[str] | None = None
) -> None:
    """Ask localstripe to POST its events, signed with secret, to url."""
    fields: list[tuple[str, str]] = [("url", url), ("secret", secret)]
    fields += [(f"events[{i}]", name) for i, name in enumerate(events or [])]
    answer = requests.post(
        f"{base_url}/_config/webhooks/{urllib.parse.quote(webhook_id)}", data=fields, timeout=5
    )
    if answer.status_code != 200:
        raise RuntimeError(f"localstripe refused the webhook: HTTP {answer.status_code}")


def _keep_state_in(path: Path | None) -> None:
    """Make localstripe's store persist to path, or not at all when path is None."""
    from localstripe import resources

    def dump(store: resources.Store) -> None:
        if path is None:
            return
        # Write then rename, so a crash never leaves half a pickle behind.
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as f:
            pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)

    resources.Store.dump_to_disk = dump  # type: ignore[method-assign]
    if path is not None and path.exists():
        with open(path, "rb") as f:
            # Our own file, written by dump() above in a directory we chose.
            resources.store.update(pickle.load(f))  # noqa: S301


def main(argv: list[str] | None = None) -> None:
    """Serve localstripe until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state-file", type=Path, default=None)
    parser.add_argument(
        "--webhook-url", default=None, help="POST events here, signed with $STRIPE_WEBHOOK_SECRET"
    )
    args = parser.parse_args(argv)

    from aiohttp import web
    from localstripe import server, webhooks

    from app.payments import localconnect

    if args.state_file is not None:
        args.state_file.parent.mkdir(parents=True, exist_ok=True)
    _keep_state_in(args.state_file)
    # Access lines (method, path, status) help a newcomer follow the demo; no headers.
    logging.basicConfig(level=logging.INFO, format="localstripe %(message)s")
    if args.webhook_url:
        secret = os.environ.get("STRIPE_WEBHOOK_SECRET")
        if not secret:
            parser.error("--webhook-url needs STRIPE_WEBHOOK_SECRET in the environment")
        # Registrations live in memory only: make them at every start.
        webhooks.register_webhook("plugpool", args.webhook_url, secret, None)
    localconnect.install(server.app)  # Connect: accounts, links, transfers, reversals
    web.run_app(server.app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
