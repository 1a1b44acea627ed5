"""A redis-server of a test's own on a spare port, so stopping it leaves the machine's shared one alone."""

from __future__ import annotations

import shutil
import subprocess
import time

import redis as redis_lib

from tests.support.gunicorn import free_port


class RedisServer:
    def __init__(self):
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        if self.binary is None:
            raise RuntimeError("redis-server is not installed")
        # No persistence, like a cache that lost its data: whatever Redis held before a stop is gone after it.
        self.process = subprocess.Popen(  # noqa: S603 - fixed command, the port is ours
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        probe = redis_lib.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if probe.ping():
                    return self
            except redis_lib.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
