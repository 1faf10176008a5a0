"""Rendering: the forest plot of a reconciliation, drawn with matplotlib from a finished
result. Presentation only (no statistics beyond what the result holds) and no Flask."""
