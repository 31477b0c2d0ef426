"""gzip-ratio throughput: the stage's numpy serialisation vs a per-token struct.pack baseline.

Run: python benchmarks/bench_gzip.py [--sequences N]
Both compute the paper's ratio (4-byte big-endian tokens, gzip level 9, mtime 0) on the same
random 256-token sequences, on one core, and must agree exactly.
"""

from __future__ import annotations

import argparse
import gzip
import struct
import time

import numpy as np

from datalaws.compress import token_ratios


def baseline(rows: np.ndarray) -> np.ndarray:
    out = []
    for row in rows:
        raw = b"".join(struct.pack(">i", int(t)) for t in row)
        out.append(len(gzip.compress(raw, compresslevel=9, mtime=0)) / len(raw))
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=5000)
    args = parser.parse_args()
    rows = np.random.default_rng(0).integers(1, 301, size=(args.sequences, 256))
    timings = {}
    for name, fn in (("baseline struct.pack", baseline), ("datalaws token_ratios", token_ratios)):
        start = time.perf_counter()
        ratios = fn(rows)
        timings[name] = (args.sequences / (time.perf_counter() - start), ratios)
    (base, r0), (fast, r1) = timings.values()
    assert np.array_equal(r0, r1), "implementations disagree"
    for name, (rate, _) in timings.items():
        print(f"{name:<24}{rate:>12,.0f} sequences/s")
    print(f"speed-up {fast / base:.1f}x")


if __name__ == "__main__":
    main()
