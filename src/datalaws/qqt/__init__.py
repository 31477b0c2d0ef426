"""Data filtering under a compute budget (Goyal et al. 2024): repetition law, mixtures, decision.

``law`` holds the per-pool repetition law, ``mixture`` the theorem that predicts a mixture of
pools from their parameters, ``fit`` the robust per-bucket fit, ``decision`` the best filtering
level per budget, ``plots`` the report's figures.
"""
