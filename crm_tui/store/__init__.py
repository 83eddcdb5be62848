"""Storage: SQLModel tables, engine/session setup and Alembic migrations."""
