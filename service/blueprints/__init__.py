"""One blueprint per resource: ``reconcile`` (``/v1/reconcile``), ``health`` (``/healthz``),
``docs`` (Swagger UI's files, served locally so ``/docs`` works offline)."""
