"""Triangulate's statistical core: claims, sources, credibility and estimators.

Pure numpy/scipy: no web framework, no storage, no logging set-up, no global state.
The one entry point most callers need is :func:`models.reconcile.reconcile`.
"""
