"""The operations commands against a real database, as a person runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from tests.operations.test_billing import BAD, GOOD, csv_text
from tests.twin.community import Community


def twin(db_url: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TWIN_DATABASE_URL": db_url, "TWIN_HOME": str(home), "TWIN_CONFIG": str(home / "none.toml")}
    return subprocess.run(
        [sys.executable, "-m", "twin.cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_billing_import_rates_and_tickets_from_the_shell(
    client: TestClient, community: Community, db_url: str, tmp_path: Path
) -> None:
    export = tmp_path / "2024年1-2月收费明细.csv"
    export.write_text(csv_text(GOOD + [BAD[0][0]]), encoding="utf-8-sig")
    first = twin(db_url, tmp_path, "billing", "import", str(export), "--site", str(community.site), "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["created"], [r["row"] for r in report["refused"]]) == (7, [9])
    again = twin(db_url, tmp_path, "billing", "import", str(export), "--site", str(community.site))
    assert again.returncode == 0 and "0 new" in again.stdout and "7 unchanged" in again.stdout
    assert "unknown unit 3-2-901" in again.stdout

    rates = twin(
        db_url,
        tmp_path,
        "billing",
        "rates",
        "--under",
        str(community.site),
        "--by",
        "site",
        "--from",
        "2024-01",
        "--to",
        "2024-02",
        "--json",
    )
    assert rates.returncode == 0, rates.stderr
    assert [(p["period"], p["rate"]) for p in json.loads(rates.stdout)] == [
        ("2024-01", "0.8048"),
        ("2024-02", "0.7501"),
    ]

    client.post("/api/tickets", json={"place_id": community.tower, "category": "other", "description": "门禁故障"})
    listed = twin(db_url, tmp_path, "tickets", "list", "--under", str(community.site), "--json")
    assert [t["description"] for t in json.loads(listed.stdout)] == ["门禁故障"]

    missing = twin(db_url, tmp_path, "billing", "import", str(tmp_path / "nope.csv"), "--site", str(community.site))
    # The console wraps a long path at its width: compare the words, not the lines.
    assert missing.returncode == 1 and "is not a file" in " ".join(missing.stderr.split())
    bad_month = twin(db_url, tmp_path, "billing", "rates", "--under", str(community.site), "--from", "2024-13")
    assert bad_month.returncode == 1 and "YYYY-MM" in bad_month.stderr
