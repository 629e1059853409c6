"""One Kivra client per process, made from the app's configuration and shared by every thread in it."""
import threading

import httpx
from flask import current_app

from kivra.sender_api import metrics
from kivra.sender_api.client import KivraClient

_lock = threading.Lock()


def client_from_config(config) -> KivraClient:
    """Pointing the app at the real Kivra is a configuration change: base URL, client id, client secret."""
    timeout = float(config.get("KIVRA_TIMEOUT_SECONDS", 20.0))
    return KivraClient(
        config["KIVRA_API_URL"], config["KIVRA_CLIENT_ID"], config["KIVRA_CLIENT_SECRET"],
        timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)), max_attempts=int(config.get("KIVRA_MAX_ATTEMPTS", 3)),
        observe=metrics.observe,
    )


def kivra_client() -> KivraClient:
    """The current app's client, created on first use (so `flask db upgrade` never opens a connection)."""
    extensions = current_app.extensions
    with _lock:
        if extensions.get("kivra_client") is None:
            extensions["kivra_client"] = client_from_config(current_app.config)
        return extensions["kivra_client"]
