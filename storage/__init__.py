"""Database: SQLAlchemy 2 async models, engine/session helpers and repositories."""
