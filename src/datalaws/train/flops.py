"""Training compute: the 6ND estimate and an exact count of every multiply-add in a matrix product.

Exact count, per sequence of T positions (T = context - 1 inputs, each predicting the next token),
forward pass:
  * every linear layer with an (in x out) weight: 2 * in * out FLOPs per position; this covers
    q, k, v, o, the three SwiGLU matrices in each of the L layers, and the output layer (d x V);
  * causal attention, per layer: scores Q K^T and the weighted sum A V each take one d-long dot
    product per (query, visible key) pair, and query i sees i + 1 keys, so
    2 * [2 * d * T (T + 1) / 2] = 2 d T (T + 1) FLOPs per sequence;
  * the embedding lookup is a gather (0 FLOPs).
Backward = 2 x forward (gradients with respect to both operands of every product), so the total
is 3 x forward. Element-wise work (norms, rotary, softmax, SiLU, the loss) is not counted; it is
under a few percent of the total for every ladder size. ``attention="full"`` counts the whole T x T
score matrix instead, which is what ``torch.utils.flop_counter`` reports for SDPA, and is how the
test checks this formula against PyTorch's own count.
"""

from __future__ import annotations

from datalaws.train.shape import ModelConfig


def linear_weights(cfg: ModelConfig) -> int:
    """Weights that take part in a matrix product per position (everything but the embedding)."""
    per_layer = 4 * cfg.dim * cfg.dim + 3 * cfg.dim * cfg.ffn
    return cfg.layers * per_layer + cfg.dim * cfg.vocab_size


def forward_flops_per_sequence(cfg: ModelConfig, seq_len: int, attention: str = "causal") -> int:
    if attention == "causal":
        attn = 2 * cfg.dim * seq_len * (seq_len + 1)
    elif attention == "full":
        attn = 4 * cfg.dim * seq_len * seq_len
    else:
        raise ValueError(f"attention must be 'causal' or 'full', got {attention!r}")
    return 2 * linear_weights(cfg) * seq_len + cfg.layers * attn


def training_flops(
    cfg: ModelConfig, n_sequences: int, seq_len: int, attention: str = "causal"
) -> int:
    """Forward plus backward FLOPs for ``n_sequences`` sequences of ``seq_len`` positions."""
    return 3 * n_sequences * forward_flops_per_sequence(cfg, seq_len, attention)


def flops_6nd(n_params: int, tokens: int) -> float:
    """Kaplan/Chinchilla estimate C = 6 N D."""
    return 6.0 * n_params * tokens
