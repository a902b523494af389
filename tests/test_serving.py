"""``evalplatform serve``: worker processes each on a listening socket of their own, replaced
when they die, stopped together; and the garbage collector's start-up freeze."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import _free_port
from tests.conftest import served as served_factory

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"),
                                reason="SO_REUSEPORT is a Linux/BSD socket option")


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
                found.add(int(entry.name))
    return found


def _tcp_table() -> list[tuple[int, str, int]]:
    """(local port, state, inode) of every IPv4 TCP socket (``/proc/net/tcp``)."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        rows.append((int(fields[1].split(":")[1], 16), fields[3], int(fields[9])))
    return rows


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _get(port: int, path: str = "/healthz", timeout: float = 10) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture
def served(database_url, engine, tmp_path):
    """``evalplatform serve --workers 2`` on a free port: (process, port, log path)."""
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "EVAL_DATABASE_URL": database_url, "EVAL_VAR_DIR": str(tmp_path),
           "EVAL_SECRET_KEY": "test-secret-key-not-for-production"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "evalplatform.cli", "serve", "--port", str(port),
             "--workers", "2", "--threads", "2", "--no-access-log"],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while len(_children(process.pid)) < 2 or not _answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the server did not start: " + log.read_text(errors="replace")[-2000:])
        time.sleep(0.2)
    yield process, port, log
    if process.poll() is None:
        process.kill()
        process.wait()


def _answers(port: int) -> bool:
    try:
        return _get(port, timeout=1) == 200
    except OSError:
        return False


def test_each_worker_listens_on_a_socket_of_its_own_and_takes_a_share_of_connections(served):
    process, port, _log = served
    listening = {inode for p, state, inode in _tcp_table() if p == port and state == "0A"}
    workers = _children(process.pid)
    assert len(listening) == 2  # two sockets on one port: SO_REUSEPORT
    for pid in workers:  # each worker holds one of them, not both
        assert len(_socket_inodes(pid) & listening) == 1
    assert _socket_inodes(process.pid) >= listening  # the parent keeps both for replacements

    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(40)]
    try:
        for connection in connections:  # keep-alive: each connection stays with its worker
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
        established = {inode for p, state, inode in _tcp_table() if p == port and state == "01"}
        held = sorted(len(_socket_inodes(pid) & established) for pid in workers)
    finally:
        for connection in connections:
            connection.close()
    # the kernel spreads connections by a hash: all 40 on one worker has odds of 2 in 2**40
    assert sum(held) == 40 and held[0] >= 1


def test_a_worker_that_dies_is_replaced_and_no_request_is_lost(served):
    process, port, log = served
    before = _children(process.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    # connections the kernel gives to the dead worker's socket wait in its queue for the
    # replacement instead of being refused
    assert [_get(port) for _ in range(20)] == [200] * 20
    deadline = time.monotonic() + 30
    while len(_children(process.pid) - {victim}) < 2:
        assert time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.2)
    assert victim not in _children(process.pid)
    assert "ended" in log.read_text(errors="replace")


def test_sigterm_stops_the_workers_and_the_parent(served):
    process, port, _log = served
    workers = _children(process.pid)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    with pytest.raises(OSError):
        _get(port, timeout=2)


def test_a_port_already_in_use_is_refused_not_shared(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "EVAL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
               "EVAL_VAR_DIR": str(tmp_path), "EVAL_SECRET_KEY": "test-secret-key"}
        done = subprocess.run(
            [sys.executable, "-m", "evalplatform.cli", "serve", "--port", str(port),
             "--workers", "2"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_only_the_served_application_freezes_its_start_up_objects(monkeypatch, settings, engine):
    from fastapi.testclient import TestClient

    from evalplatform.web import app as web_app

    frozen = []
    monkeypatch.setattr(web_app, "freeze_startup_objects", lambda: frozen.append(True))
    with TestClient(web_app.create_app(settings, engine)):
        pass
    assert frozen == []
    monkeypatch.setattr(web_app, "get_settings", lambda: settings)
    monkeypatch.setattr(web_app, "make_engine", lambda *a, **k: engine)
    with TestClient(web_app.create_served_app()) as client:
        assert client.get("/healthz").status_code == 200
    assert frozen == [True]


def test_an_error_page_leaves_the_connection_open_for_the_next_request(database_url, engine):
    """After an unexpected error's 500 page, the browser's next request on the same kept-alive
    connection is answered, not cut off (uvicorn closes a connection whose application raised)."""
    with served_factory("tests.served_apps:served_app_with_a_failing_page", database_url,
                        name="failing-page") as base:
        connection = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]),
                                                timeout=10)
        try:
            connection.request("GET", "/boom")
            failed = connection.getresponse()
            assert failed.status == 500
            assert "出错了。错误已记录" in failed.read().decode()
            socket_used = connection.sock
            assert socket_used is not None  # the server did not ask to close it
            connection.request("GET", "/healthz")
            answered = connection.getresponse()
            assert answered.status == 200
            assert connection.sock is socket_used  # the same connection, not a new one
        finally:
            connection.close()
