"""The PostGIS store: ORM tables, engine and sessions. SQLAlchemy and GeoAlchemy2 live here."""
