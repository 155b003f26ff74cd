"""The periodic history upkeep the ingest runs (and ``twin ingest maintain`` runs by hand).

Partitions ahead and the rollup run every time (cheap when there is nothing to do); retention
deletes run at most once a day, never while the ingest starts (they may take a while). It uses
its own short-lived connection, so a long rollup after downtime never delays the ingest's writes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg

from realtime import retention

log = logging.getLogger(__name__)

EXPIRE_EVERY = timedelta(days=1)


@dataclass
class Maintenance:
    """Runs partitions-ahead, rollups and (daily) retention against one database."""

    conninfo: str
    last_expired: datetime | None = None
    last_report: dict[str, Any] = field(default_factory=dict)

    def run(self, now: datetime, *, expire: bool | None = None) -> dict[str, Any]:
        """Do the upkeep due at ``now``; ``expire`` forces retention now (True), skips it (False) or leaves it due."""
        report: dict[str, Any] = {}
        if expire is None:
            expire = self.last_expired is None or now - self.last_expired >= EXPIRE_EVERY
        with psycopg.connect(self.conninfo, autocommit=True, application_name="twin-maintenance") as conn:
            report["partitions_created"] = retention.ensure_ahead(conn, now)
            report["hours_rolled_up"] = retention.rollup(conn, now)
            if expire:
                report["expired"] = retention.expire(conn, now)
                self.last_expired = now
        if report["partitions_created"] or report.get("expired", {}).get("partitions"):
            log.info("history maintenance: %s", report)
        self.last_report = report
        return report
