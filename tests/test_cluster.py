"""`make cluster`: the Procfile and the nginx configuration are generated from the settings."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import config
from scripts import cluster


def _settings(**overrides):
    return config.load("testing", overrides)


def test_procfile_has_the_nodes_the_settings_ask_for_on_their_own_ports():
    settings = _settings(CLUSTER_WEB_NODES=3, CLUSTER_WEB_BASE_PORT=7001, CLUSTER_WORKERS=2)

    lines = cluster.procfile(settings, python="py").splitlines()
    names = [line.split(":", 1)[0] for line in lines]

    assert names == [
        "web1", "web2", "web3", "gateway1", "gateway2", "worker1", "worker2", "beat", "proxy"
    ]  # fmt: skip
    assert "GUNICORN_BIND=127.0.0.1:7003 " in lines[2]
    assert "GATEWAY_PORT=9102 GATEWAY_METRICS_PORT=9202" in lines[4]
    # Each web node sums only its own workers' samples.
    assert len({re.search(r"PROMETHEUS_MULTIPROC_DIR=(\S+)", line)[1] for line in lines[:3]}) == 3


def test_nginx_balances_http_and_websockets_over_every_node():
    conf = cluster.nginx_conf(_settings(CLUSTER_HTTP_PORT=18080, CLUSTER_GATEWAY_NODES=3))

    assert "listen 127.0.0.1:18080;" in conf
    gateway_block = conf.split("upstream plugpool_gateway")[1].split("}")[0]
    web_block = conf.split("upstream plugpool_web")[1].split("}")[0]
    assert gateway_block.count("server 127.0.0.1:") == 3
    assert web_block.count("server 127.0.0.1:") == 2
    ocpp = conf.split("location /ocpp/")[1].split("}")[0]
    assert "proxy_set_header Upgrade $http_upgrade;" in ocpp
    assert "proxy_set_header Connection $connection_upgrade;" in ocpp


@pytest.mark.skipif(
    cluster.nginx_binary() == "nginx" and shutil.which("nginx") is None, reason="nginx missing"
)
def test_generated_nginx_configuration_is_valid(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "CLUSTER_DIR", tmp_path)
    cluster.write_files(_settings())

    check = subprocess.run(
        [cluster.nginx_binary(), "-t", "-e", "stderr", "-p", str(tmp_path), "-c",
         str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert check.returncode == 0, check.stderr


def test_with_a_replica_the_web_nodes_read_from_it_and_honcho_runs_it():
    url = "postgresql+psycopg://postgres@127.0.0.1:5433/plugpool"
    lines = cluster.procfile(_settings(), python="py", replica=(url, ["postgres", "-D", "d"]))
    by_name = dict(line.split(": ", 1) for line in lines.splitlines())

    assert by_name["replica"] == "postgres -D d"
    assert all(f"DATABASE_REPLICA_URL={url} " in by_name[f"web{n}"] for n in (1, 2))
    others = [line for name, line in by_name.items() if not name.startswith("web")]
    assert not any("DATABASE_REPLICA_URL" in line for line in others)  # writers use the primary
    assert "replica" not in cluster.procfile(_settings(), python="py")


@pytest.mark.slow
def test_the_replica_make_cluster_copies_streams_when_its_procfile_command_runs(database_url):
    import contextlib
    import tempfile
    import time
    from pathlib import Path

    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from app.core.replica import _CHECK
    from scripts import replica

    settings = _settings(DATABASE_URL=database_url, CLUSTER_REPLICA_PORT=_free_port())
    home = Path(tempfile.mkdtemp(prefix="plugpool-cluster-"))
    home.chmod(0o711)  # the server runs as postgres: it must reach replica/ below
    try:
        url, command = cluster.copy_replica(settings, home)
    except replica.ReplicaError as error:
        pytest.skip(f"no streaming replica can be made here: {error}")
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        deadline = time.monotonic() + 120
        while True:  # bounded wait for the server to accept connections and stream
            with contextlib.suppress(OperationalError):  # still starting
                with engine.connect() as connection:
                    standby, streaming, _ = connection.execute(_CHECK).one()
                if standby and streaming:
                    break
            assert time.monotonic() < deadline, "the replica never streamed"
            time.sleep(0.2)
    finally:
        engine.dispose()
        server.terminate()
        server.wait(60)
        replica.stop(home / "replica")
        home.rmdir()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
