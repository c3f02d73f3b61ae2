"""The stream on a server whose socket the hub cannot reach (uvicorn's h11): a queue per reader."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from conftest import SSEReader, cli_here, free_port, server_env, unique
from test_api import post


@pytest.mark.slow
def test_queued_stream_delivers_and_catches_up(tmp_path):
    env = {**os.environ, **server_env(tmp_path, LIVEDESK_READER_BUFFER_BYTES="20000")}
    cli_here("db", "upgrade", env=env)
    token = cli_here("token", "create", "--user", unique("ed"), "--role", "editor", env=env).stdout.strip().splitlines()[-1]
    port = free_port()
    with open(tmp_path / "h11.log", "ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "livedesk.web.app:server_app",
             "--http", "h11", "--port", str(port), "--log-level", "warning",
             "--timeout-graceful-shutdown", "2"],  # as `livedesk serve`: open streams end at a stop
            env=env, stdout=log, stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/api/events", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.poll() is None, (tmp_path / "h11.log").read_text()
                time.sleep(0.1)
        editor = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=15)
        slug = unique("h11")
        editor.post("/api/events", json={"slug": slug, "title": "h11"}).raise_for_status()
        reader = SSEReader(f"{url}/api/events/{slug}/stream")
        first = post(editor, slug, body="queued one")
        seen = reader.wait_for(lambda e: e["data"].get("id") == first["id"])
        reader.close()
        missed = [post(editor, slug, body=f"missed {i}")["id"] for i in range(2)]
        again = SSEReader(f"{url}/api/events/{slug}/stream", last_event_id=seen[0]["id"])
        again.wait_count(2)
        assert [e["data"]["id"] for e in again.events] == missed
        again.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
