"""Embedded services: a private PostGIS cluster and a private Mosquitto broker under ``var/``.

They exist so that nobody has to configure a database or a broker to try the twin; they never
touch a system-wide cluster or broker. Production points the settings at its own instead.
"""

from twin.services.mosquitto import BrokerTls, MosquittoBroker
from twin.services.postgres import PostgresCluster

__all__ = ["BrokerTls", "MosquittoBroker", "PostgresCluster"]
