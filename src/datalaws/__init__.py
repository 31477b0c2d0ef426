"""Data-dependent neural scaling laws: from random grammars to compute-optimal allocations."""

__version__ = "0.1.0"
