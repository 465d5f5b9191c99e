"""Schema migrations (Alembic), the same revisions for SQLite and PostgreSQL.

``Store`` runs them on open (:func:`pipeline.store.migrate`); a developer adds one with
``alembic -c pipeline/migrations/alembic.ini revision -m "..."`` and writes its upgrade by hand.
"""
