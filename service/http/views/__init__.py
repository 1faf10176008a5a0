"""One blueprint per resource: ``reconcile`` (``/v1/reconcile``), ``batch``, ``health``
(``/healthz``, ``/readyz``), ``sources``, ``questions``, ``claims``, ``extract``
(``/v1/extract``), ``plot``, ``docs`` (Swagger UI's files, served locally) and ``web`` (the
editors' page at ``/``). Each view loads through a schema, calls one function of the core or
one repository method, and dumps through a schema."""
