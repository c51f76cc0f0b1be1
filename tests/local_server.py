"""Helpers for the download tests, which use conftest's ``server`` on 127.0.0.1 only."""

import hashlib
import socket

from d2lcompute import hub

PAYLOAD = b"Id,SalePrice\n1,208500\n2,181500\n" * 50


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def register(monkeypatch, server, name, file_name, body, sha1_hash=None, prefix=""):
    """Serve ``body`` as ``/file_name`` and register it in DATA_HUB; return the URL."""
    server.files[f"/{file_name}"] = body
    url = f"{server.base_url}{prefix}/{file_name}"
    monkeypatch.setitem(hub.DATA_HUB, name, (url, sha1_hash or sha1(body)))
    return url


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket closes


def serve(server, file_name, body):
    """Serve ``body`` as ``/file_name`` without registering it; return the URL."""
    server.files[f"/{file_name}"] = body
    return f"{server.base_url}/{file_name}"
