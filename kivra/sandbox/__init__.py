"""A local emulator of Kivra's sender API, faithful to Kivra's documentation, for the app and its tests.

Run it with `python -m kivra.sandbox --port 8765`, or in-process with `kivra.sandbox.server.start_in_thread()`.
"""
import uuid

from flask import Flask

from kivra.sandbox import admin, auth, content, errors, faults, inbox, matching, tenants
from kivra.sandbox.config import FaultConfig, SandboxConfig
from kivra.sandbox.state import SandboxState

__all__ = ["FaultConfig", "SandboxConfig", "create_sandbox"]


def create_sandbox(config: SandboxConfig | None = None) -> Flask:
    """The sandbox's own small Flask app; its state is `app.extensions["kivra_sandbox"]`."""
    app = Flask(__name__)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.extensions["kivra_sandbox"] = SandboxState(config or SandboxConfig())
    errors.init_app(app)
    faults.init_app(app)
    for blueprint in (auth.bp, tenants.bp, matching.bp, content.bp, admin.bp, inbox.bp):
        app.register_blueprint(blueprint)

    @app.after_request
    def correlation_id(response):
        response.headers["x-correlation-id"] = uuid.uuid4().hex
        return response

    return app
