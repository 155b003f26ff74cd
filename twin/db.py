"""The public face of the store for the composition root and tests: migrate and check."""

from twin.store.engine import check_schema, upgrade

__all__ = ["check_schema", "upgrade"]
