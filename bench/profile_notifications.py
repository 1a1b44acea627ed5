"""Where a bansos day's time goes: pyinstrument over one relay batch and one delivery batch (PostgreSQL, the C FCM
stub), and what a delivery worker does as py-spy samples it. Writes bench/results/notifications_profile.txt.

    python -m bench.profile_notifications            # the two batches, in this process
    python -m bench.profile_notifications spy A.txt  # also summarise py-spy raw output(s) of running workers

The workers' samples are taken during `python -m bench notifications` with
`py-spy record -p <worker pid> -d 10 -r 250 -f raw -o A.txt` (the bench's workers are `flask jobs worker --simple`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.fast_stub import FastFcmStub
from bench.util import ROOT, flask, fresh_pg_database

RESULTS = Path(__file__).resolve().parent / "results" / "notifications_profile.txt"
EVENTS = 1500
BATCH = 500

_CODE = """
import json, time
from pyinstrument import Profiler
from config import get_config
from jaki import create_app
from jaki.notifications import delivery, relay
import bench.scenario_notifications as s

s.seed(10, 0)
app = create_app(get_config("development"))
out = []
with app.app_context():
    s.insert_events({events}, 1, "bansos")
    _, warm = relay.relay_batch({batch})
    delivery.send_notifications(warm)  # connections open, sender built
    began, cpu = time.perf_counter(), time.process_time()
    _, ids = relay.relay_batch({batch})
    out.append(f"relay_batch({batch}): {{(time.perf_counter() - began) * 1000:.0f}} ms wall, "
               f"{{(time.process_time() - cpu) * 1000:.0f}} ms CPU")
    began, cpu = time.perf_counter(), time.process_time()
    delivery.send_notifications(ids)
    out.append(f"send_notifications({batch}): {{(time.perf_counter() - began) * 1000:.0f}} ms wall, "
               f"{{(time.process_time() - cpu) * 1000:.0f}} ms CPU")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    _, ids = relay.relay_batch({batch})
    profiler.stop()
    out.append("=== relay_batch ===" + profiler.output_text(unicode=False, color=False))
    profiler = Profiler(interval=0.0005)
    profiler.start()
    delivery.send_notifications(ids)
    profiler.stop()
    out.append("=== send_notifications ===" + profiler.output_text(unicode=False, color=False))
print(json.dumps(out))
"""

IDLE_LEAVES = {"_worker", "Condition.wait", "Event.wait"}
KEY_FRAMES = (
    ("relay_batch", "the relay (outbox events to rows)"),
    ("send_notifications", "a delivery batch"),
    ("_push_claimed", "  of which: devices, messages, outcomes"),
    ("_record_outcomes", "  of which: the outcomes' UPDATE"),
    ("FcmPushSender._send_one", "firebase-admin messaging.send (the sender's threads)"),
    ("KeepAliveAdapter.send", "  of which: the HTTP exchange (jaki.notifications.transport)"),
    ("HTTPConnectionPool.urlopen", "  of which: urllib3 (a proxy's path only, since the keep-alive adapter)"),
    ("Session.prepare_request", "  of which: requests preparing the request"),
    ("_MessagingService._message_data", "  of which: firebase-admin encoding the message"),
    ("Connection.wait", "waiting for PostgreSQL"),
)


def summarise_spy(path: str) -> str:
    """Inclusive share of the samples per frame of interest, from py-spy's raw (folded) output."""
    total, idle, inclusive = 0, 0, Counter()
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = [frame.split(" (")[0] for frame in stack.split(";")]
        if frames[-1] in IDLE_LEAVES:
            idle += n  # a sender thread waiting for work, or the scheduler's sleep: py-spy counts them, we do not
            continue
        total += n
        names = set(frames)
        for name in names:
            inclusive[name] += n
    lines = [f"py-spy {Path(path).name}: {total} busy samples of a delivery worker ({idle} idle ones left out)"]
    for name, label in KEY_FRAMES:
        lines.append(f"  {inclusive[name] / total * 100 if total else 0:5.1f}%  {label} [{name}]")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    url = fresh_pg_database("bench_notify_profile")
    if url is None:
        raise SystemExit("needs PostgreSQL")
    with FastFcmStub() as stub:
        env = {
            **os.environ,
            "JAKI_ENV": "development",
            "FLASK_APP": "wsgi.py",
            "DATABASE_URL": url,
            "JAKI_PUSH_BACKEND": "fcm",
            "JAKI_FCM_PROJECT_ID": "bench",
            "JAKI_FCM_URL": stub.send_url,
            "JAKI_LOG_LEVEL": "WARNING",
            "JAKI_INSTANCE_DIR": "/tmp/jaki-bench-notify-profile",
            "BENCH_NOTIFY_TARGETED": "10",
            "BENCH_NOTIFY_FORKING": "0",
            "BENCH_NOTIFY_BANSOS": str(EVENTS),
            "PYTHONPATH": str(ROOT),
        }
        flask(["db", "upgrade", "heads"], env)
        code = _CODE.format(events=EVENTS, batch=BATCH)
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    import json

    parts = json.loads(done.stdout.strip().splitlines()[-1])
    header = [
        "Profile of one relay batch and one delivery batch (pyinstrument, in one process), PostgreSQL, the C FCM stub;",
        "then py-spy summaries of delivery workers during `python -m bench notifications` (its bansos day).",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.2f}.",
        "",
    ]
    spies = [summarise_spy(path) for path in argv[1:]] if argv[:1] == ["spy"] else []
    RESULTS.write_text("\n".join(header + parts[:2] + [""] + spies + [""] + parts[2:]) + "\n")
    print(RESULTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
