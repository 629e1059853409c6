"""Serving the sandbox over real HTTP: in a daemon thread for tests and the app, or in the foreground."""
import ipaddress
import socket
import threading
from dataclasses import dataclass, field

from werkzeug.serving import BaseWSGIServer, make_server

from kivra.sandbox import create_sandbox
from kivra.sandbox.config import SandboxConfig
from kivra.sandbox.state import SandboxState


def require_loopback(host: str) -> None:
    """The sandbox has no real security: it only ever listens on this machine."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        raise ValueError(f"cannot resolve host {host!r}") from None
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise ValueError(f"the sandbox listens on loopback addresses only, not {host!r}")


def serve_keeping_alive(config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0,
                        threads: int = 128, ready=None) -> None:
    """Serve in the foreground with gunicorn's threaded worker (the production extra), which keeps each connection
    open for the next call as Kivra does; Werkzeug's server closes every connection after its answer, so each call
    also opens one (a third of the client's CPU and of the server's per call on loopback). One worker process
    holds the sandbox's state; `threads` calls are answered at once (a latency fault sleeps in one). `ready(url)` is
    called once the port is bound."""
    from gunicorn.app.base import BaseApplication

    require_loopback(host)
    app = create_sandbox(config)

    def when_ready(arbiter) -> None:
        bound_host, bound_port = arbiter.LISTENERS[0].sock.getsockname()[:2]
        if ready is not None:
            ready(f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}")

    class Sandbox(BaseApplication):
        def load_config(self) -> None:
            settings = {"bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}", "workers": 1,
                        "worker_class": "gthread", "threads": threads, "keepalive": 75, "when_ready": when_ready,
                        "control_socket_disable": True, "loglevel": "warning"}
            for name, value in settings.items():
                self.cfg.set(name, value)

        def load(self):
            return app

    Sandbox().run()


def make_sandbox_server(config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    require_loopback(host)
    return make_server(host, port, create_sandbox(config), threaded=True)


@dataclass
class RunningSandbox:
    server: BaseWSGIServer
    thread: threading.Thread = field(repr=False)

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def url(self) -> str:
        host = self.server.server_address[0]
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def state(self) -> SandboxState:
        return self.server.app.extensions["kivra_sandbox"]

    @property
    def config(self) -> SandboxConfig:
        return self.state.config

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> "RunningSandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_in_thread(config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    """Start serving in a daemon thread; `port=0` picks a free port (see `.url`)."""
    server = make_sandbox_server(config, host, port)
    # A short poll interval makes stop() quick: shutdown() waits for the serving loop's next look.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="kivra-sandbox",
                              daemon=True)
    thread.start()
    return RunningSandbox(server, thread)
