"""A model's shape and parameter count, without torch.

Planning a study (resources, FLOPs, the DAG's params) needs the shape and N of every run, and
Snakemake plans in every process it starts; importing torch there would cost each one a second or
two for nothing. ``model.py`` builds the network from the same ``ModelConfig``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelConfig:
    dim: int
    ffn: int
    layers: int
    heads: int
    vocab_size: int
    context: int  # longest sequence the rotary tables cover

    def __post_init__(self) -> None:
        for name in ("dim", "ffn", "layers", "heads", "vocab_size", "context"):
            if getattr(self, name) < 1:
                raise ValueError(f"model.{name} must be >= 1, got {getattr(self, name)}")
        if self.dim % self.heads or (self.dim // self.heads) % 2:
            raise ValueError(
                f"model.dim ({self.dim}) must split into {self.heads} heads of even size "
                "(rotary embeddings rotate pairs of channels)"
            )

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads


def count_parameters(cfg: ModelConfig) -> dict[str, int]:
    """Total and non-embedding parameters, from the config alone (no model needed).

    Non-embedding excludes both vocabulary-sized matrices (input embedding and output layer): they
    scale with the grammar's vocabulary, not with model capacity, and would make the laws' N differ
    between grammars of equal width and depth.
    """
    per_layer = 4 * cfg.dim * cfg.dim + 3 * cfg.dim * cfg.ffn + 2 * cfg.dim
    nonembedding = cfg.layers * per_layer + cfg.dim
    return {"total": nonembedding + 2 * cfg.vocab_size * cfg.dim, "nonembedding": nonembedding}
