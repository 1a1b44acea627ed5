"""The bench's FCM stub: bench/fcm_stub/fast_stub.c, built here with the system C compiler and run as a process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "fcm_stub" / "fast_stub.c"
BUILD_DIR = Path(os.environ.get("BENCH_BUILD_DIR", "/tmp/jaki-bench-build"))
BINARY = BUILD_DIR / "fast_stub"


def build() -> Path:
    """Compile when the binary is missing or older than its source (offline: libc only)."""
    if BINARY.exists() and BINARY.stat().st_mtime >= SOURCE.stat().st_mtime:
        return BINARY
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        raise RuntimeError("no C compiler (cc, gcc or clang) to build the bench's FCM stub")
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run([compiler, "-O2", "-o", str(BINARY), str(SOURCE)], check=True)
    return BINARY


class FastFcmStub:
    """Same surface as tests.support.fcm_stub.FcmStub where the bench uses it: send_url, sent_count."""

    def __init__(self):
        self._process: subprocess.Popen | None = None
        self.port = 0
        self._client: httpx.Client | None = None

    def __enter__(self) -> FastFcmStub:
        binary = build()
        self._process = subprocess.Popen([str(binary), "serve", "0"], stdout=subprocess.PIPE, text=True)
        line = self._process.stdout.readline().split()
        if len(line) != 2 or line[0] != "listening":
            self.close()
            raise RuntimeError(f"the FCM stub did not start: {line!r}")
        self.port = int(line[1])
        self._client = httpx.Client(timeout=5)
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            self._process = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def send_url(self) -> str:
        return self.origin + "/v1/projects/{0}/messages:send"

    def stats(self) -> dict:
        return self._client.get(self.origin + "/stats").json()

    @property
    def sent_count(self) -> int:
        return self.stats()["sent"]

    def ceiling(self, seconds: float, connections: int = 32) -> dict:
        """The stub's own ceiling, driven by the C load generator (one request in flight per connection)."""
        done = subprocess.run(
            [str(BINARY), "blast", str(self.port), str(seconds), str(connections)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["messages_per_s"] = round(result["messages"] / result["seconds"], 1)
        return result
