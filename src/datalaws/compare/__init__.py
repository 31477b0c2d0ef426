"""Across sources: which compressibility measure predicts the fitted laws, and how well the
H-law fitted on grammars predicts each real dataset's law (docs/datasets.md)."""

# Sources a comparison across sources needs (a rank correlation through two points says nothing).
# Here, not in predictors.py, so that planning the DAG does not import scipy and pandas.
MIN_SOURCES = 3
