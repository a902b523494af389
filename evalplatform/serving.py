"""Serving the web application (运行服务): uvicorn worker processes, each listening on a socket
of its own.

uvicorn's own ``--workers`` shares one listening socket, and whichever process wakes first
accepts the next connection. Over keep-alive connections that choice sticks, and it is
lopsided: of 100 respondents' connections one worker was seen holding 72 to 84. Both workers
get the same share of the processor, so the crowded worker's respondents waited about four
times as long. Here each worker listens on a socket of its own, bound to the same address with
``SO_REUSEPORT``, and the kernel spreads new connections over the sockets by a hash of the
two addresses. The parent process holds the sockets: a worker that dies is replaced on the
same socket, and connections that arrive meanwhile wait in its queue instead of being lost.

Each worker also moves what it built at start-up (the application, its templates and the
libraries, some hundreds of thousands of objects that live as long as the process) out of
the garbage collector's reach. Otherwise every full collection walks all of them, and the
worker answered nothing for 100–200 ms about every second and a half under load.
"""

from __future__ import annotations

import gc
import logging
import signal
import socket
import threading

import uvicorn
from uvicorn._subprocess import get_subprocess
from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger("uvicorn.error")

#: The application factory the workers serve.
APP = "evalplatform.web.app:create_served_app"


def freeze_startup_objects() -> None:
    """Collect once, then leave every object alive now out of later collections (they live as
    long as the process): a full collection then walks only what requests have made since."""
    gc.collect()
    gc.freeze()


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A socket listening on ``host:port`` that other sockets may listen on too
    (``SO_REUSEPORT``): the kernel gives each new connection to one of them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def _refuse_if_taken(host: str, port: int) -> None:
    """Raise OSError when something listens on ``host:port`` already: a second server started
    by mistake must fail, not quietly share the port with the first."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def balanced_available() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def run_workers(config: uvicorn.Config, workers: int) -> None:
    """Serve with ``workers`` processes, each on a listening socket of its own, until SIGINT or
    SIGTERM; a worker that dies is started again (unless it failed while starting: then the
    others are stopped too, for it would fail the same way again)."""
    _refuse_if_taken(config.host, config.port)
    sockets = [listening_socket(config.host, config.port, config.backlog)]
    port = sockets[0].getsockname()[1]  # the one chosen when asked for port 0
    sockets += [listening_socket(config.host, port, config.backlog) for _ in range(workers - 1)]
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    def start(index: int):
        process = get_subprocess(config, uvicorn.Server(config).run, [sockets[index]])
        process.start()
        return process

    processes = [start(i) for i in range(workers)]
    log.info("Serving on http://%s:%d with %d workers, each on a socket of its own (pids %s)",
             config.host, port, workers, ", ".join(str(p.pid) for p in processes))
    while not stop.wait(0.5):
        for index, process in enumerate(processes):
            if process.is_alive():
                continue
            if process.exitcode == STARTUP_FAILURE:
                log.error("Worker %s failed to start; stopping.", process.pid)
                stop.set()
                break
            log.warning("Worker %s ended (exit code %s); starting another.", process.pid,
                        process.exitcode)
            processes[index] = start(index)
    for process in processes:
        if process.is_alive():
            process.terminate()  # SIGTERM: uvicorn finishes the requests under way
    for process in processes:
        process.join()
    for sock in sockets:
        sock.close()
    log.info("Stopped.")
