"""Where did this job run, and could its processes talk to each other?

Writes JSON with the SLURM job id and node of every rank, the world size, and the result of an
all_reduce over gloo (the sum of 1..world when every rank took part).
"""

import argparse
import os
import socket

from datalaws import atomic


def where() -> dict:
    return {
        "job": os.environ.get("SLURM_JOB_ID"),
        "node": os.environ.get("SLURMD_NODENAME"),
        "host": socket.gethostname(),
        "gpus_on_node": os.environ.get("SLURM_GPUS_ON_NODE"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--no-torch", action="store_true", help="a CPU job: no process group")
    args = parser.parse_args()
    if args.no_torch or "RANK" not in os.environ:
        atomic.write_json(args.out, {"world": 1, "allreduce": 1, "ranks": [where()]})
        return
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    total = torch.tensor([rank + 1.0])
    dist.all_reduce(total)
    ranks = [None] * world
    dist.all_gather_object(ranks, where())
    if rank == 0:
        atomic.write_json(args.out, {"world": world, "allreduce": total.item(), "ranks": ranks})
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
