"""Reading and writing per-pool law parameters, including ones fitted elsewhere.

Accepted input: a JSON list of pools, or an object whose ``buckets`` key holds that list. Each
pool has ``a, b, d, tau`` (paper form, ``a`` in units of samples seen) and optionally ``name``,
``pool_size``, ``fraction`` and ``control``. The list order is the quality ranking used by top-k
mixtures.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from datalaws.atomic import read_json
from datalaws.qqt.law import LawDomainError, PoolParams

FORMAT = "datalaws-qqt-params-v1"
_OPTIONAL = ("pool_size", "fraction")


def pools_from_obj(obj: Any, source: str = "params") -> list[PoolParams]:
    """Turn parsed JSON into pools, naming the entry and key of any problem."""
    entries = obj.get("buckets") if isinstance(obj, dict) else obj
    if not isinstance(entries, list) or not entries:
        raise LawDomainError(
            f"{source}: expected a non-empty list of pools (or {{'buckets': [...]}})"
        )
    pools = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise LawDomainError(f"{source}: pool {i} is not an object")
        name = str(entry.get("name", f"pool{i}"))
        missing = [key for key in ("a", "b", "d", "tau") if key not in entry]
        if missing:
            raise LawDomainError(f"{source}: pool {name!r} lacks {missing}")
        try:
            numbers = {key: float(entry[key]) for key in ("a", "b", "d", "tau")}
            extra = {key: float(entry[key]) for key in _OPTIONAL if entry.get(key) is not None}
        except (TypeError, ValueError) as err:
            raise LawDomainError(
                f"{source}: pool {name!r} has a non-numeric value ({err})"
            ) from err
        pools.append(
            PoolParams(**numbers, **extra, name=name, control=bool(entry.get("control", False)))
        )
    names = [pool.name for pool in pools]
    if len(set(names)) != len(names):
        raise LawDomainError(f"{source}: duplicate pool names {names}")
    return pools


def read_pools(path: str | os.PathLike[str]) -> list[PoolParams]:
    return pools_from_obj(read_json(path), str(path))


def pool_to_obj(pool: PoolParams) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "name": pool.name,
        "a": pool.a,
        "b": pool.b,
        "d": pool.d,
        "tau": pool.tau,
        "delta": pool.delta,
        "control": pool.control,
    }
    for key in _OPTIONAL:
        if getattr(pool, key) is not None:
            obj[key] = getattr(pool, key)
    return obj


def pools_to_obj(pools: Sequence[PoolParams], **meta: Any) -> dict[str, Any]:
    return {"format": FORMAT, "buckets": [pool_to_obj(pool) for pool in pools], **meta}
