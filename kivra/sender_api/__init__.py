"""Kivra's sender API, through httpx: auth, tenants, user matching and content. Every call to Kivra goes here."""
from kivra.sender_api.client import AccessRequest, KivraClient, SentContent, Tenant
from kivra.sender_api.errors import KivraError, TransportError

__all__ = ["AccessRequest", "KivraClient", "KivraError", "SentContent", "Tenant", "TransportError"]
