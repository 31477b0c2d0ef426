"""Across sources: which compressibility measure predicts the fitted laws, and how well the
H-law fitted on grammars predicts each real dataset's law (docs/datasets.md)."""
