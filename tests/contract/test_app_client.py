"""The app's Kivra client comes from configuration alone: base URL, client id and secret."""
import os

import pytest

from kivra import create_app
from kivra.sender_api.app import kivra_client
from kivra.sender_api.errors import InvalidClient


def test_the_app_client_talks_to_the_configured_kivra(sandbox, tmp_path, monkeypatch):
    monkeypatch.setitem(os.environ, "KIVRA_API_URL", sandbox.url)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    with app.app_context():
        client = kivra_client()
        assert kivra_client() is client  # one per process, shared by its threads
        assert client.create_tenant("Demo AB", "5568402266").created
        client.close()


def test_wrong_credentials_in_configuration_are_reported(sandbox, tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                      "KIVRA_API_URL": sandbox.url, "KIVRA_CLIENT_SECRET": "wrong"})
    with app.app_context(), pytest.raises(InvalidClient):
        kivra_client().find_tenants("5568402266")
