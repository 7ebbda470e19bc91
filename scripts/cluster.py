"""`make cluster`: PlugPool as several nodes on this machine, as it would run on many.

From the settings (config/defaults.py, CLUSTER_*, overridable by environment variables) it
writes var/cluster/Procfile and var/cluster/nginx.conf, migrates the database, and hands
the Procfile to honcho: CLUSTER_WEB_NODES gunicorn web nodes, CLUSTER_GATEWAY_NODES OCPP
gateway nodes (on the Redis command bus), CLUSTER_WORKERS Celery workers, one Celery beat,
and nginx in front on CLUSTER_HTTP_PORT balancing HTTP and the stations' WebSockets
(/ocpp/...). One PostgreSQL + PostGIS (DATABASE_URL) and one Redis (REDIS_URL) serve all.
With CLUSTER_REPLICA (`make cluster REPLICA=1`), a streaming replica of the local server is
copied afresh on CLUSTER_REPLICA_PORT (scripts/replica.py), run under honcho as `replica`,
and the web nodes read from it (DATABASE_REPLICA_URL); /readyz reports its state.

    python -m scripts.cluster            # write the files, migrate, run until Ctrl-C
    python -m scripts.cluster --write    # only write the files (and print the Procfile)
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

import config

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_DIR = ROOT / "var" / "cluster"


def procfile(
    settings: dict[str, Any],
    python: str = sys.executable,
    directory: Path | None = None,
    replica: tuple[str, list[str]] | None = None,
) -> str:
    """One honcho line per process; each node's own ports in front of its command.

    `replica`: (its URL, the command running it): a `replica` line, the web nodes read there.
    """
    directory = directory or CLUSTER_DIR
    lines = []
    run = shlex.quote(python)
    reads = f"DATABASE_REPLICA_URL={shlex.quote(replica[0])} " if replica else ""
    for node in range(1, settings["CLUSTER_WEB_NODES"] + 1):
        port = settings["CLUSTER_WEB_BASE_PORT"] + node - 1
        metrics_dir = directory / f"prometheus-web{node}"
        lines.append(
            f"web{node}: GUNICORN_BIND=127.0.0.1:{port} PROMETHEUS_MULTIPROC_DIR={metrics_dir} "
            f"{reads}{run} -m gunicorn -c config/gunicorn.py wsgi:app"
        )
    for node in range(1, settings["CLUSTER_GATEWAY_NODES"] + 1):
        port = settings["CLUSTER_GATEWAY_BASE_PORT"] + node - 1
        metrics = settings["CLUSTER_GATEWAY_METRICS_BASE_PORT"] + node - 1
        lines.append(
            f"gateway{node}: GATEWAY_PORT={port} GATEWAY_METRICS_PORT={metrics} "
            f"{run} -m app.gateway"
        )
    for node in range(1, settings["CLUSTER_WORKERS"] + 1):
        lines.append(
            f"worker{node}: {run} -m celery -A celery_worker.celery worker --concurrency 1 "
            f"--loglevel WARNING -n worker{node}@%h"
        )
    lines.append(
        f"beat: {run} -m celery -A celery_worker.celery beat --loglevel WARNING "
        f"--schedule {directory / 'celerybeat-schedule'}"
    )
    lines.append(f"proxy: {nginx_binary()} -e stderr -p {directory} -c {directory / 'nginx.conf'}")
    if replica:
        lines.append(f"replica: {shlex.join(replica[1])}")
    return "\n".join(lines) + "\n"


def nginx_binary() -> str:
    """nginx from PATH, or Debian's /usr/sbin (not on an ordinary user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin") or "nginx"


def nginx_conf(settings: dict[str, Any], directory: Path | None = None) -> str:
    """nginx in the foreground, unprivileged, its files under var/cluster."""
    directory = directory or CLUSTER_DIR
    web = "".join(
        f"        server 127.0.0.1:{settings['CLUSTER_WEB_BASE_PORT'] + n};\n"
        for n in range(settings["CLUSTER_WEB_NODES"])
    )
    gateways = "".join(
        f"        server 127.0.0.1:{settings['CLUSTER_GATEWAY_BASE_PORT'] + n};\n"
        for n in range(settings["CLUSTER_GATEWAY_NODES"])
    )
    body_kib = max(1, settings["MAX_CONTENT_LENGTH"] // 1024)
    return f"""daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {directory}/nginx-tmp/body;
    proxy_temp_path {directory}/nginx-tmp/proxy;
    fastcgi_temp_path {directory}/nginx-tmp/fastcgi;
    uwsgi_temp_path {directory}/nginx-tmp/uwsgi;
    scgi_temp_path {directory}/nginx-tmp/scgi;
    client_max_body_size {body_kib}k;
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    upstream plugpool_web {{
        least_conn;
{web}        keepalive 32;
    }}
    upstream plugpool_gateway {{
        # A station stays on one node while connected; least_conn spreads reconnects.
        least_conn;
{gateways}    }}
    server {{
        listen 127.0.0.1:{settings["CLUSTER_HTTP_PORT"]};
        # TLS: terminate here (listen ... ssl; ssl_certificate/ssl_certificate_key), see README.
        location /ocpp/ {{
            proxy_pass http://plugpool_gateway;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header Authorization $http_authorization;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }}
        location / {{
            proxy_pass http://plugpool_web;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Request-ID $request_id;
        }}
    }}
}}
"""


def cluster_env(settings: dict[str, Any]) -> dict[str, str]:
    """What every node shares: the Redis bus, real Celery, one proxy in front."""
    return {
        **os.environ,
        "FLASK_APP": "wsgi:app",
        "GATEWAY_BUS": "redis",
        "CELERY_ALWAYS_EAGER": "false",
        "PROXY_COUNT": "1",
        "GATEWAY_TRUSTED_PROXIES": "127.0.0.1",
        "GATEWAY_LOG_LEVEL": os.environ.get("GATEWAY_LOG_LEVEL", "WARNING"),
        "PUBLIC_BASE_URL": settings["PUBLIC_BASE_URL"]
        or f"http://127.0.0.1:{settings['CLUSTER_HTTP_PORT']}",
        "GATEWAY_PUBLIC_URL": settings["GATEWAY_PUBLIC_URL"]
        or f"ws://127.0.0.1:{settings['CLUSTER_HTTP_PORT']}/ocpp",
    }


def write_files(
    settings: dict[str, Any],
    directory: Path | None = None,
    replica: tuple[str, list[str]] | None = None,
) -> Path:
    """Write the Procfile and nginx.conf (fresh metrics directories too); return the Procfile."""
    directory = directory or CLUSTER_DIR
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / "nginx-tmp" / name).mkdir(parents=True, exist_ok=True)
    for node in range(1, settings["CLUSTER_WEB_NODES"] + 1):
        metrics_dir = directory / f"prometheus-web{node}"
        shutil.rmtree(metrics_dir, ignore_errors=True)  # old workers' samples would add up
        metrics_dir.mkdir()
    (directory / "nginx.conf").write_text(nginx_conf(settings, directory))
    path = directory / "Procfile"
    path.write_text(procfile(settings, directory=directory, replica=replica))
    return path


def copy_replica(settings: dict[str, Any], directory: Path | None = None) -> tuple[str, list[str]]:
    """Copy the local server afresh as a standby under `directory`/replica (not started);
    return its URL (DATABASE_URL's database) and the command running it in the foreground."""
    from scripts import replica

    target = (directory or CLUSTER_DIR) / "replica"
    replica.stop(target)  # a copy left by an earlier run: stopped if running, then removed
    port = int(settings["CLUSTER_REPLICA_PORT"])
    replica.copy(port, target)
    database = make_url(settings["DATABASE_URL"]).database or "plugpool"
    return replica.url(port, database), replica.foreground_command(target)


def main(argv: list[str] | None = None) -> int:
    """Write the files; unless --write, migrate and run the cluster under honcho."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="only write Procfile and nginx.conf")
    args = parser.parse_args(argv)
    settings = config.load()
    if settings["DATABASE_URL"].startswith("sqlite"):
        print(
            "make cluster needs PostgreSQL + PostGIS: set DATABASE_URL "
            "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/plugpool)",
            file=sys.stderr,
        )
        return 2
    standby = None
    if settings["CLUSTER_REPLICA"] and not args.write:
        print(
            f"copying the database server as a replica on port {settings['CLUSTER_REPLICA_PORT']}"
        )
        standby = copy_replica(settings)
    path = write_files(settings, replica=standby)
    if args.write:
        print(path.read_text(), end="")
        return 0
    if nginx_binary() == "nginx":
        print("nginx is missing: run `make system-deps` (PLUGPOOL_CLUSTER_DEPS=1)", file=sys.stderr)
        return 2
    env = cluster_env(settings)
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
    print(f"PlugPool cluster on {env['PUBLIC_BASE_URL']}  (OCPP: {env['GATEWAY_PUBLIC_URL']})")
    honcho = [sys.executable, "-m", "honcho", "-f", str(path), "-d", str(ROOT), "start"]
    os.chdir(ROOT)
    # honcho takes this process's place, so Ctrl-C or a SIGTERM reaches it and it stops all.
    os.execve(sys.executable, honcho, env)  # noqa: S606 -- argv list, no shell


if __name__ == "__main__":
    sys.exit(main())
