"""``python -m service.cli``: the ``triangulate`` command without its console script."""

from service.cli.main import main

raise SystemExit(main())
