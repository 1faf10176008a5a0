"""Batch engines for ``triangulate batch``: the archive read, fitted and written at any size.

:mod:`~service.batch.inputs` reads a claims file or a directory of CSV or Parquet files into
columns that remember each claim's file and line; :mod:`~service.batch.outputs` writes the
estimates as CSV, JSON Lines or Parquet, a chunk of questions at a time. The local engine is
:class:`models.batch.BatchEstimator` itself, in this process. :mod:`~service.batch.dask_engine`
runs the same EM on a Dask cluster: the archive is split into partitions of whole questions
that stay on the workers, and every EM iteration reduces per-source sums
(:mod:`models.batch.sums`) on the driver through the same loop (:mod:`models.batch.loop`), so
both engines take the same decisions and give the same answers. Only the Dask engine imports
``dask`` and ``distributed``, and only when it runs; only Parquet needs ``pyarrow``.
"""
