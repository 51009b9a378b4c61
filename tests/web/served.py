"""The router in a real server: uvicorn on 127.0.0.1 (a port the OS picked), in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import httpx
import uvicorn
from fastapi import FastAPI, Header, HTTPException
from sqlalchemy import Engine

from pyglue.web import agentdb_router

ADMIN_TOKEN = "let-me-in"  # noqa: S105 - a test app's header value
ADMIN = {"X-Admin-Token": ADMIN_TOKEN}


def require_admin(x_admin_token: Annotated[str | None, Header()] = None) -> None:
    """The app's own admin check (here: a header)."""
    if x_admin_token != ADMIN_TOKEN:
        raise HTTPException(401, "admin token required")


def make_app(engine: Engine, **router_options: Any) -> FastAPI:
    app = FastAPI()
    app.include_router(agentdb_router(engine, **router_options))
    return app


@contextmanager
def serve(app: FastAPI, *, lifespan: str = "off") -> Iterator[httpx.Client]:
    """Run `app` under uvicorn in a thread; a client on its base URL, until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("uvicorn did not start")
        time.sleep(0.01)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/agentdb", timeout=60) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
