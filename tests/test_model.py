"""The Llama-style model and its parameter and FLOP counts."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from datalaws.train.flops import flops_6nd, forward_flops_per_sequence, training_flops
from datalaws.train.model import Transformer, apply_rotary, rotary_tables
from datalaws.train.shape import ModelConfig, count_parameters

PAPER = [  # (dim, ffn, layers, heads) and the paper's parameter counts with a 32001-row vocabulary
    ((64, 128, 2, 1), 4.2e6),
    ((128, 256, 4, 2), 8.8e6),
    ((256, 512, 6, 4), 20.3e6),
    ((512, 1024, 10, 8), 59.0e6),
    ((1024, 2048, 20, 16), 275.3e6),
    ((2048, 4096, 30, 32), 1.4e9),
]


def small(**kw) -> ModelConfig:
    base = {"dim": 32, "ffn": 64, "layers": 2, "heads": 2, "vocab_size": 21, "context": 64}
    return ModelConfig(**{**base, **kw})


def test_parameter_count_matches_the_module():
    cfg = small()
    model = Transformer(cfg)
    counts = count_parameters(cfg)
    assert counts["total"] == sum(p.numel() for p in model.parameters())
    embed = model.tok_embeddings.weight.numel() + model.output.weight.numel()
    assert counts["nonembedding"] == counts["total"] - embed


@pytest.mark.parametrize(("shape", "paper"), PAPER)
def test_paper_ladder_reproduces_the_paper_parameter_counts(shape, paper):
    total = count_parameters(ModelConfig(*shape, vocab_size=32001, context=256))["total"]
    assert abs(total - paper) / paper < 0.02


def test_forward_is_causal():
    torch.manual_seed(0)
    model = Transformer(small())
    x = torch.randint(0, 21, (2, 40))
    y = x.clone()
    y[:, 25:] = (y[:, 25:] + 1) % 21
    with torch.no_grad():
        a, b = model(x), model(y)
    assert a.shape == (2, 40, 21)
    torch.testing.assert_close(a[:, :25], b[:, :25])
    assert not torch.allclose(a[:, 25:], b[:, 25:])


def test_rotary_scores_depend_only_on_relative_position():
    tables = rotary_tables(8, 32)
    q, k = torch.randn(8), torch.randn(8)

    def score(i: int, j: int) -> torch.Tensor:
        qs = apply_rotary(q.expand(1, 1, 32, 8).clone(), tables)[0, 0, i]
        ks = apply_rotary(k.expand(1, 1, 32, 8).clone(), tables)[0, 0, j]
        return qs @ ks

    torch.testing.assert_close(score(10, 7), score(25, 22))
    torch.testing.assert_close(score(0, 0), q @ k)


def test_invalid_shapes_are_refused():
    with pytest.raises(ValueError, match="heads"):
        small(dim=30, heads=4)
    with pytest.raises(ValueError, match="layers"):
        small(layers=0)


def test_exact_flops_match_pytorch_flop_counter():
    """With SDPA's math backend PyTorch counts every matmul, including the full score matrix."""
    cfg = small()
    model = Transformer(cfg)
    x = torch.randint(0, 21, (3, 64))
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        logits = model(x[:, :-1])
        F.cross_entropy(logits.flatten(0, 1), x[:, 1:].flatten()).backward()
    assert counter.get_total_flops() == training_flops(cfg, 3, 63, attention="full")


def test_causal_flops_count_the_visible_triangle():
    cfg, t = small(), 63
    full = forward_flops_per_sequence(cfg, t, "full")
    causal = forward_flops_per_sequence(cfg, t, "causal")
    # Q K^T and A V each: d multiply-adds per visible (query, key) pair, t(t+1)/2 pairs.
    assert full - causal == cfg.layers * 2 * 2 * cfg.dim * (t * t - t * (t + 1) // 2)
    with pytest.raises(ValueError, match="attention"):
        forward_flops_per_sequence(cfg, t, "sparse")


def test_6nd_is_close_to_exact_when_attention_is_small():
    cfg = ModelConfig(1024, 2048, 20, 16, vocab_size=301, context=256)
    n = count_parameters(cfg)["nonembedding"]
    exact = training_flops(cfg, 1000, 255)
    approx = flops_6nd(n, 1000 * 255)
    assert math.isclose(exact, approx, rel_tol=0.15)
    assert exact > approx  # attention and the output layer come on top of 6N
