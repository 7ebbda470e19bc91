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
