"""A preemptible job: counts steps, and on SIGURG saves its state and exits 75 (EX_TEMPFAIL).

The same protocol as the trainer's: the warning signal finishes the step in flight, saves a
checkpoint, exits non-zero without the final output; the next attempt resumes from the state.
The final output records every attempt, so a test can see that the work resumed, not restarted.
"""

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from datalaws import atomic

EX_TEMPFAIL = 75


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--step-seconds", type=float, required=True)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    received: list[int] = []
    signal.signal(signal.SIGURG, lambda signum, frame: received.append(signum))
    state = atomic.read_json(args.state) if args.state.exists() else {"step": 0, "attempts": []}
    attempt = {"job": os.environ.get("SLURM_JOB_ID"), "start": state["step"]}
    state["attempts"].append(attempt)
    print(f"attempt {len(state['attempts'])} starts at step {state['step']}", flush=True)
    while state["step"] < args.steps:
        if received:
            attempt["stop"] = state["step"]
            atomic.write_json(args.state, state)
            print(f"signal {received[0]}: checkpoint at step {state['step']}", flush=True)
            return EX_TEMPFAIL
        time.sleep(args.step_seconds)
        state["step"] += 1
        if state["step"] == 1 or state["step"] % 5 == 0:
            atomic.write_json(args.state, state)
    attempt["stop"] = state["step"]
    atomic.write_json(args.out, state)
    args.state.unlink()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
