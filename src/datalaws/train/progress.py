"""Progress that suits where the run is: a tqdm bar on a terminal, log lines under a scheduler."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm


def _human(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m{seconds % 60:02d}s"


class Progress:
    """Rank 0 reports; other ranks stay quiet. ``mode`` is 'auto', 'bar', 'log' or 'off'."""

    def __init__(self, total: int, start: int, mode: str, every_s: float, enabled: bool) -> None:
        if mode == "auto":
            mode = "bar" if sys.stderr.isatty() else "log"
        self.mode = mode if enabled else "off"
        self.total, self.every_s = total, every_s
        self.start_step, self.t0 = start, time.perf_counter()
        self.last = self.t0
        self.bar = (
            tqdm(total=total, initial=start, unit="step", dynamic_ncols=True)
            if self.mode == "bar"
            else None
        )

    def update(self, step: int, loss: float, lr: float, tokens_per_s: float) -> None:
        """Called after ``step`` (0-based) finished."""
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}", tok_s=f"{tokens_per_s:.0f}")
            return
        now = time.perf_counter()
        if self.mode == "log" and (now - self.last >= self.every_s or step + 1 == self.total):
            self.last = now
            done = step + 1 - self.start_step
            eta = (now - self.t0) / max(done, 1) * (self.total - step - 1)
            print(
                f"step {step + 1}/{self.total} loss {loss:.4f} lr {lr:.3e} "
                f"{tokens_per_s:,.0f} tok/s eta {_human(eta)}",
                flush=True,
            )

    def message(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text)
        elif self.mode != "off":
            print(text, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
