"""The ``triangulate`` command: reconcile a file, check golden fixtures, batch learning from a
claims file, learning from the stored database, database migrations and API keys. It uses the
store and the core directly and the HTTP app only to answer as the service would."""
