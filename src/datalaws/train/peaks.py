"""Dense bf16 peak FLOP/s of common training GPUs, chosen by the name the driver reports.

MFU is only comparable across machines when it is counted against the same kind of peak: here,
dense (no 2:4 sparsity) bf16 tensor-core throughput per device at boost clock, as the vendor's
datasheet states it. Datasheets usually print the sparse figure; dense is half of it. Names are
matched in order, most specific first (``H100 PCIe`` before ``H100``, ``A100`` before ``A10``),
on what ``torch.cuda.get_device_name()`` returns, e.g. ``NVIDIA H100 80GB HBM3`` or
``NVIDIA A100-SXM4-80GB``. A GPU that is not in the table is refused with a hint: pass its peak
explicitly rather than guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class UnknownGpuError(ValueError):
    """No peak is known for this device name; the caller must give one."""


@dataclass(frozen=True)
class GpuPeak:
    pattern: str  # regular expression searched in the device name, case-insensitive
    label: str
    bf16_flops: float  # dense bf16 tensor-core FLOP/s per device
    source: str


PEAKS: tuple[GpuPeak, ...] = (
    # NVIDIA H100 Tensor Core GPU datasheet: BF16 1,979 (SXM), 1,513 (PCIe), 1,671 (NVL) TFLOPS
    # with sparsity.
    GpuPeak(r"\bH100\b.*\bPCIe\b", "H100 PCIe", 756.5e12, "H100 datasheet, 1513 TF sparse / 2"),
    GpuPeak(r"\bH100\b.*\bNVL\b", "H100 NVL", 835.5e12, "H100 datasheet, 1671 TF sparse / 2"),
    GpuPeak(r"\bH100\b", "H100 SXM", 989.4e12, "H100 datasheet, 1979 TF sparse / 2"),
    # NVIDIA H200 Tensor Core GPU datasheet: BF16 1,979 (SXM), 1,671 (NVL) TFLOPS with sparsity.
    GpuPeak(r"\bH200\b.*\bNVL\b", "H200 NVL", 835.5e12, "H200 datasheet, 1671 TF sparse / 2"),
    GpuPeak(r"\bH200\b", "H200 SXM", 989.4e12, "H200 datasheet, 1979 TF sparse / 2"),
    # NVIDIA GH200 Grace Hopper Superchip datasheet: the Hopper GPU's BF16 1,979 TF with sparsity.
    GpuPeak(r"\bGH200\b", "GH200", 989.4e12, "GH200 datasheet, 1979 TF sparse / 2"),
    # NVIDIA HGX B200 datasheet: FP16/BF16 4.5 PFLOPS per GPU with sparsity.
    GpuPeak(r"\bB200\b", "B200", 2250e12, "HGX B200 datasheet, 4.5 PF sparse / 2"),
    # NVIDIA A100 Tensor Core GPU datasheet: BF16 312 TF dense (624 with sparsity), SXM and PCIe.
    GpuPeak(r"\bA100\b", "A100", 312e12, "A100 datasheet, 312 TF dense"),
    # NVIDIA A30 datasheet: BF16 165 TF dense (330 with sparsity).
    GpuPeak(r"\bA30\b", "A30", 165e12, "A30 datasheet, 165 TF dense"),
    # NVIDIA A40 datasheet: BF16 149.7 TF dense (299.4 with sparsity).
    GpuPeak(r"\bA40\b", "A40", 149.7e12, "A40 datasheet, 149.7 TF dense"),
    # NVIDIA A10 datasheet: BF16 125 TF dense (250 with sparsity). Not the A10G (AWS), not listed.
    GpuPeak(r"\bA10\b", "A10", 125e12, "A10 datasheet, 125 TF dense"),
    # NVIDIA L40S datasheet: BF16 362.05 TF dense (733 with sparsity).
    GpuPeak(r"\bL40S\b", "L40S", 362.05e12, "L40S datasheet, 362.05 TF dense"),
    # NVIDIA L40 datasheet: BF16 181.05 TF dense (362.1 with sparsity).
    GpuPeak(r"\bL40\b", "L40", 181.05e12, "L40 datasheet, 181.05 TF dense"),
    # NVIDIA L4 datasheet: BF16 121 TF dense (242 with sparsity).
    GpuPeak(r"\bL4\b", "L4", 121e12, "L4 datasheet, 242 TF sparse / 2"),
    # AMD Instinct MI300X datasheet: BF16 1307.4 TF dense (ROCm builds of torch report this name).
    GpuPeak(r"\bMI300X\b", "MI300X", 1307.4e12, "MI300X datasheet, 1307.4 TF dense"),
)


def gpu_peak(name: str) -> GpuPeak:
    """The table entry for a device name; ``UnknownGpuError`` names the device if none matches."""
    for entry in PEAKS:
        if re.search(entry.pattern, name, flags=re.IGNORECASE):
            return entry
    known = ", ".join(p.label for p in PEAKS)
    raise UnknownGpuError(
        f"no dense bf16 peak is known for the GPU {name!r} (known: {known}); pass its peak "
        "FLOP/s explicitly (gpu_check --peak-flops, train.run.peak_flops)"
    )


def resolve_peak(device_name: str | None, override: float = 0.0) -> tuple[float | None, str]:
    """(peak FLOP/s, where it came from): the override if given, else the table for a GPU, else
    (None, ...) on a CPU, whose peak depends on cores, clocks and vector units we cannot see."""
    if override:
        return override, "given (--peak-flops)"
    if device_name is None:
        return None, "no peak for a CPU unless --peak-flops is given"
    entry = gpu_peak(device_name)
    return entry.bf16_flops, f"{entry.label}: {entry.source}"
