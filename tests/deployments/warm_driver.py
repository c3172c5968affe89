"""A warm engine whose runs are `run` below instead of Prefect's engine: the fork, the streams,
the environment, the signals and the exit code, seen from the worker's side."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from deployments.warm_engine.protocol import Request
from deployments.warm_engine.server import WarmEngine


def run(request: Request) -> None:
    action, *args = request.argv
    if action == "echo":
        sys.stdout.write(json.dumps({"argv": args, "probe": os.environ.get("PROBE"),
                                     "cwd": os.getcwd(), "stdin": sys.stdin.read()}) + "\n")
        sys.stderr.write("to stderr\n")
        raise SystemExit(int(args[0]))
    if action == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "wait":
        def terminated(_signum: int, _frame: FrameType | None) -> None:
            sys.stdout.write("terminated\n")
            sys.stdout.flush()
            raise SystemExit(3)

        signal.signal(signal.SIGTERM, terminated)
        sys.stdout.write(f"ready {os.getpid()}\n")
        sys.stdout.flush()
        time.sleep(120)
    raise SystemExit(f"unknown action {action}")


if __name__ == "__main__":
    forked = WarmEngine(Path(sys.argv[1])).serve()
    if forked is not None:
        run(forked)
