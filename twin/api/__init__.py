"""The REST API: one router per resource, schemas that are never ORM rows."""
