"""The store: the database engine and sessions, the ORM tables, the Alembic migrations and the
repositories that read and write sources, questions, claims, track records and API keys. It
speaks the domain, not HTTP: it raises its own errors (:mod:`service.store.errors`) and imports
neither Flask nor werkzeug nor the HTTP layer; the HTTP layer and the command line use it."""
