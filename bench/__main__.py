"""Run every benchmark scenario (or those named on the command line) and write JSON results."""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(HERE.parent))
    names = argv or sorted(p.stem.removeprefix("scenario_") for p in HERE.glob("scenario_*.py"))
    RESULTS.mkdir(exist_ok=True)
    failed = []
    for name in names:
        module = importlib.import_module(f"bench.scenario_{name}")
        print(f"== bench {name}", flush=True)
        started = time.time()
        try:
            result = module.run()
        except Exception as exc:  # noqa: BLE001 - one broken scenario must not hide the others' results
            print(f"!! {name} failed: {exc!r}", flush=True)
            failed.append(name)
            continue
        result = {
            "scenario": name,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "seconds": round(time.time() - started, 1),
            **result,
        }
        path = RESULTS / f"{name}.json"
        path.write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(json.dumps(result, indent=2, default=str), flush=True)
        print(f"-> {path}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
