"""A streaming read replica of the local PostgreSQL server, on another port of this machine.

    python -m scripts.replica start [--port 5433] [--dir var/replica]  # prints the URL to set
    python -m scripts.replica stop [--dir var/replica]

`pg_basebackup -R` copies the server that DATABASE_ADMIN_URL names (the whole cluster) into a
new data directory, which then streams from it as a hot standby. Replication connections from
127.0.0.1 are allowed on that server first when they are not (one pg_hba.conf line, reloaded):
that needs a local server whose pg_hba.conf this user can write (root, or its owner). The new
server runs as the `postgres` user when started by root.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

ADMIN_URL = os.environ.get("DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
HBA_RULE = "host replication all 127.0.0.1/32 trust  # PlugPool: local read replicas\n"
# A hot standby refuses to start with fewer of these than its primary has.
MATCHED_SETTINGS = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


class ReplicaError(RuntimeError):
    """The replica cannot be made here (and why)."""


def allow_replication(admin_url: str = ADMIN_URL) -> None:
    """Make sure the primary takes replication connections from 127.0.0.1, or say why not."""
    settings = _settings(admin_url, ("wal_level", "max_wal_senders", "hba_file"))
    if settings["wal_level"] not in {"replica", "logical"} or int(settings["max_wal_senders"]) < 2:
        raise ReplicaError(
            f"the primary has wal_level={settings['wal_level']}, max_wal_senders="
            f"{settings['max_wal_senders']}: changing either needs a restart of the shared server"
        )
    if _can_replicate(admin_url):
        return
    hba = Path(settings["hba_file"])
    if not os.access(hba, os.W_OK):
        raise ReplicaError(f"replication is not allowed and {hba} is not writable by this user")
    with hba.open("a") as handle:
        handle.write(HBA_RULE)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute("SELECT pg_reload_conf()")
    for _ in range(50):  # the postmaster rereads pg_hba.conf asynchronously
        if _can_replicate(admin_url):
            return
        time.sleep(0.1)
    raise ReplicaError(f"replication still refused after adding a rule to {hba}")


def create(port: int, directory: Path | None = None, admin_url: str = ADMIN_URL) -> Path:
    """Copy the primary into a new data directory and start it as a hot standby on `port`."""
    directory = copy(port, directory, admin_url)
    data, log = directory / "data", str(directory / "server.log")
    pg_ctl = str(_bindir(admin_url) / "pg_ctl")
    _as_postgres([pg_ctl, "-D", str(data), "-l", log, "-w", "-t", "60", "start"])
    return directory


def copy(port: int, directory: Path | None = None, admin_url: str = ADMIN_URL) -> Path:
    """Copy the primary into a new data directory set up as a hot standby on `port`; the
    caller starts it (`create`, or `foreground_command` under a supervisor)."""
    allow_replication(admin_url)
    bindir = _bindir(admin_url)
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="plugpool-replica-"))
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "data"
    _own(directory)
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    host, user = str(info.get("host", "127.0.0.1")), str(info.get("user", "postgres"))
    backup = ["-D", str(data), "-R", "-X", "stream", "--checkpoint=fast", "--no-password"]
    where = ["-h", host, "-p", str(info.get("port", 5432)), "-U", user]
    _as_postgres([str(bindir / "pg_basebackup"), *backup, *where])
    _write_config(data, directory, port, _settings(admin_url, MATCHED_SETTINGS))
    return directory


def foreground_command(directory: Path, admin_url: str = ADMIN_URL) -> list[str]:
    """The command running the copied replica in the foreground (as postgres when root)."""
    command = [str(_bindir(admin_url) / "postgres"), "-D", str(directory / "data")]
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def stop(directory: Path, admin_url: str = ADMIN_URL, remove: bool = True) -> None:
    """Stop the replica in `directory` (at once) and, by default, delete it."""
    data = directory / "data"
    if (data / "postmaster.pid").exists():
        _as_postgres(
            [str(_bindir(admin_url) / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        )
    if remove:
        shutil.rmtree(directory, ignore_errors=True)


def url(port: int, database: str, admin_url: str = ADMIN_URL) -> str:
    """The SQLAlchemy URL of `database` on the replica."""
    user = psycopg.conninfo.conninfo_to_dict(admin_url).get("user", "postgres")
    return f"postgresql+psycopg://{user}@127.0.0.1:{port}/{database}"


def _settings(admin_url: str, names: tuple[str, ...]) -> dict[str, str]:
    with psycopg.connect(admin_url) as connection:
        rows = connection.execute(
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (list(names),)
        )
        return dict(rows.fetchall())


def _can_replicate(admin_url: str) -> bool:
    try:
        with psycopg.connect(admin_url, replication="true", autocommit=True) as connection:
            connection.execute("IDENTIFY_SYSTEM")
    except psycopg.OperationalError:
        return False
    return True


def _bindir(admin_url: str) -> Path:
    """The server's own major version's binaries (Debian keeps them off PATH)."""
    major = int(_settings(admin_url, ("server_version_num",))["server_version_num"]) // 10000
    debian = Path(f"/usr/lib/postgresql/{major}/bin")
    if (debian / "pg_ctl").exists():
        return debian
    found = shutil.which("pg_ctl")
    if found is None:
        raise ReplicaError(f"no pg_ctl for PostgreSQL {major} (postgresql-{major} not installed)")
    return Path(found).parent


def _write_config(data: Path, directory: Path, port: int, primary: dict[str, str]) -> None:
    lines = [
        f"port = {port}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{directory}'",
        "hot_standby = on",
        *(f"{name} = {value}" for name, value in primary.items()),
    ]
    for name, text in (
        ("postgresql.conf", "\n".join(lines) + "\n"),
        ("pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n"),
    ):
        (data / name).write_text(text)
    _own(data)


def _own(path: Path) -> None:
    """Hand the directory tree to postgres when we are root (the server refuses to run as root)."""
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam("postgres")
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)


def _as_postgres(command: list[str]) -> None:
    name = Path(command[0]).name
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        raise ReplicaError(f"{name} failed: {result.stderr.strip()[-500:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--port", type=int, default=5433)
    parser.add_argument("--dir", type=Path, default=Path("var/replica"))
    parser.add_argument("--database", default="plugpool")
    args = parser.parse_args()
    if args.action == "start":
        create(args.port, args.dir.resolve())
        print(f"DATABASE_REPLICA_URL={url(args.port, args.database)}")
    else:
        stop(args.dir.resolve())


if __name__ == "__main__":
    main()
