"""What parsing JSON under jaki.inputs' limits costs beside plain json.loads, on the largest bodies allowed."""

from __future__ import annotations

import contextlib
import json
import time

SIZE = 1024 * 1024 - 100  # just under JSON_MAX_BYTES


def _time(function, text: str, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        with contextlib.suppress(ValueError, RecursionError):  # the refused bodies cost their refusal
            function(text)
    return (time.perf_counter() - started) / repeat * 1000


def run() -> dict:
    from jaki import inputs

    bodies = {
        "login (64 bytes)": '{"nik": "3174054107900003", "password": "kata-sandi-rahasia-1"}',
        "1 MiB string": '{"a": "' + "x" * SIZE + '"}',
        "1 MiB string of brackets": '{"a": "' + "[{" * (SIZE // 2) + '"}',
        "1 MiB of [] pairs": "[" + ",".join(["[]"] * (SIZE // 3)) + "]",
        "1 MiB of small objects": "[" + ",".join(['{"a":1}'] * (SIZE // 8)) + "]",
        "1 MiB of [ (refused)": "[" * SIZE,
        "1 MiB of escapes": '{"a": "' + "\\\\" * (SIZE // 2) + '"}',
    }
    measured = {}
    for name, text in bodies.items():
        repeat = 2000 if len(text) < 1000 else 5
        measured[name] = {
            "bounded_ms": round(_time(inputs.loads, text, repeat), 3),
            "json_loads_ms": round(_time(json.loads, text, repeat), 3),
        }
    return {
        "notes": "milliseconds per parse, one core; json.loads fails on the deep body with RecursionError",
        **measured,
    }
