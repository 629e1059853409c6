"""Prometheus metrics. The web's `GET /metrics` (only for a bearer of METRICS_TOKEN; without one configured it is a
404) serves the dispatch figures from the database. Each `flask worker --metrics-port` serves its own process's
figures — Kivra call latency and error codes — on a port of its own: workers run on any machines, so a directory
shared by processes (prometheus-client's multiprocess mode) cannot hold them, and one target per worker is how
Prometheus scrapes anyway."""
import hmac
from datetime import timedelta
from wsgiref.simple_server import WSGIServer

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, start_http_server

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape():
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        return Response("Not found\n", 404, mimetype="text/plain")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response("Unauthorized\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'}, mimetype="text/plain")
    from kivra.dispatch.metrics import DispatchCollector
    from kivra.dispatch.tasks import huey

    registry = CollectorRegistry(auto_describe=False)
    registry.register(DispatchCollector(huey.pending_count,
                                        timedelta(seconds=current_app.config["WORKER_SILENT_SECONDS"])))
    return Response(generate_latest(registry), 200, {"Content-Type": CONTENT_TYPE_LATEST})


def parse_port(value: str) -> int:
    """A port, or `BASE+N` — what a templated unit passes (`9100+%i`: payroll-worker@2 serves on 9102)."""
    base, _, offset = str(value).partition("+")
    return int(base) + (int(offset) if offset else 0)


def serve_worker_metrics(port: int, host: str = "127.0.0.1") -> WSGIServer:
    """This process's metrics (Kivra calls, the process's own CPU and memory) at http://host:port/metrics, in a
    daemon thread. prometheus-client's server has no authentication: bind it to a private address."""
    server, _thread = start_http_server(port, addr=host)
    return server
