"""Run one ``datalaws train`` worker (a process, or a torchrun rank) and record its peak memory.

The GPU check sets each size's measured peak beside the planner's estimate
(``resources.estimate_memory_bytes``). The trainer does not record memory, so this module runs the
very worker that torchrun starts (``datalaws.train.worker.main``) and, when it returns, writes
``peak_memory_rank<R>.json`` into the run directory: the CUDA caching allocator's peak allocated
and reserved bytes on the rank's device, and the process's peak resident set (which on a CPU also
holds the Python runtime and torch's libraries). Start it as
``python -m datalaws.train.peak_memory <datalaws train arguments>`` or through
``launch.launch_command(..., module="datalaws.train.peak_memory")``.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

MODULE = "datalaws.train.peak_memory"


def record_path(run_dir: str | Path, rank: int) -> Path:
    return Path(run_dir) / f"peak_memory_rank{rank}.json"


def main(argv: list[str] | None = None) -> int:
    import torch

    from datalaws import atomic
    from datalaws.train.worker import main as train_main

    argv = list(sys.argv[1:] if argv is None else argv)
    code = train_main(argv)
    rank = int(os.environ.get("RANK", "0"))
    record = {
        "rank": rank,
        "exit_code": code,
        "host_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "device": "cpu",
    }
    if torch.cuda.is_initialized():
        device = torch.cuda.current_device()
        record |= {
            "device": torch.cuda.get_device_name(device),
            "device_peak_allocated_bytes": torch.cuda.max_memory_allocated(device),
            "device_peak_reserved_bytes": torch.cuda.max_memory_reserved(device),
            "device_total_bytes": torch.cuda.get_device_properties(device).total_memory,
        }
    out = argv[argv.index("--out") + 1]
    atomic.write_json(record_path(out, rank), record)
    return code


if __name__ == "__main__":
    sys.exit(main())
