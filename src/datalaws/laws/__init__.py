"""Scaling laws: Chinchilla fits with bootstrap intervals, approaches 1-3, compute-optimal
frontiers, laws conditioned on gzip compressibility H, held-out checks, figures, report tables."""

import os

# Any path argument the stage's file-level functions accept.
PathArg = str | os.PathLike[str]
