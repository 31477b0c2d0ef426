"""The theory arm: compute-optimal scaling in the power-law random features model (PLRF).

One-pass SGD simulation (``sgd``), its exact expected loss for one draw of the features
(``spectrum`` + ``deterministic``), the W-free deterministic equivalent that reaches d = 10^5 and
beyond (``resolvent``), compute-optimal fits (``compute_optimal``) and the 4+3 phases with their
exponents (``theory``). See docs/plrf.md.
"""
