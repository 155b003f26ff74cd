"""Billing on real PostGIS: CSV import with bad rows, idempotent re-import, exact payment rates, standing, roles."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.api_fixtures import MakeUser, login
from tests.twin.community import Community
from twin.auth.roles import Role
from twin.operations.money import month_end, today_cst

HEADER = "单据号,房号,账期,收费项目,应收金额,实收金额,缴费日期"
GOOD = [
    "B2024010001,3-2-101,2024-01,物业费,300.10,300.10,2024-01-05",
    "B2024010002,3栋2单元102室,2024-01,物业费,300.10,150.05,2024-01-20",
    "B2024010003,3-2-201,2024-01,物业费,250.20,0,",
    "B2024010004,3-2-202,2024-01,水费,0.10,0.10,2024-01-03",
    'B2024010005,3-2-301,2024-01,物业费,"1,200.00",¥1200,2024/1/9',
    "B2024020001,3-2-101,2024-02,物业费,300.10,300.10,2024-02-05",
    "B2024020002,3-2-201,2024-02,电费,99.99,0.00,",
]
BAD = [
    ("B2024019001,3-2-901,2024-01,物业费,100,0,", "unknown unit 3-2-901"),
    ("B2024019002,3-2-302,2024-01,物业费,-5,0,", "negative"),
    ("B2024019003,3-2-302,2024-01,物业费,12.345,0,", "at most two decimals"),
    ("B2024019004,3-2-302,2024-01", "missing value for column 收费项目"),
    ("B2024010001,3-2-302,2024-01,物业费,1,0,", "duplicate reference B2024010001 (first at row 2)"),
    ("B2024019005,3-2-302,2024-13,物业费,1,0,", "does not exist"),
    ("B2024019006,3-2-302,2024-01,物业费,10,20,2024-01-01", "exceeds amount due"),
    ("B2024019007,3-2-302,2024-01,月饼,10,0,", "unknown item"),
]


def csv_text(lines: list[str]) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def import_csv(
    client: TestClient, site: int, text: str | bytes, headers: dict[str, str] | None = None, name: str = "erp.csv"
) -> Any:
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        "/api/uploads/billing", data={"site_id": str(site)}, files={"file": (name, data)}, headers=headers
    )


def test_import_keeps_good_rows_and_refuses_bad_ones_with_row_and_reason(
    client: TestClient, community: Community
) -> None:
    lines = GOOD[:3] + [line for line, _ in BAD] + GOOD[3:]
    response = import_csv(client, community.site, csv_text(lines))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["created"], report["updated"], report["unchanged"]) == (15, 7, 0, 0)
    refused = {row["row"]: row for row in report["refused"]}
    assert sorted(refused) == list(range(5, 13)), "line numbers count the header as row 1"
    for (line, reason), row in zip(BAD, sorted(refused), strict=True):
        assert reason in refused[row]["reason"], (line, refused[row])
        assert refused[row]["reference"] == line.split(",")[0]
    assert client.get(f"/api/billing/imports/{report['id']}").json()["refused"] == report["refused"]

    again = import_csv(client, community.site, csv_text(lines)).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 7), "re-import changes nothing"
    assert len(again["refused"]) == len(BAD)

    paid_later = [line.replace("250.20,0,", "250.20,250.20,2024-03-02") for line in GOOD]
    later = import_csv(client, community.site, csv_text(paid_later)).json()
    assert (later["created"], later["updated"], later["unchanged"]) == (0, 1, 6)
    unit = client.get(f"/api/billing/units/{community.units['3-2-201']}").json()
    january = next(c for c in unit["charges"] if c["period"] == "2024-01")
    assert (january["amount_paid"], january["status"]) == ("250.20", "paid")


def test_missing_columns_refuse_the_file_and_gb18030_is_read(client: TestClient, community: Community) -> None:
    missing = import_csv(
        client, community.site, "单据号,房号,账期,收费项目,应收金额,缴费日期\nX1,3-2-101,2024-01,物业费,1,\n"
    )
    assert missing.status_code == 422
    assert "row 1: missing columns: 实收金额 (amount_paid)" in missing.json()["detail"][0]["msg"]
    english = (
        "reference,unit,period,item,amount_due,amount_paid,paid_date\n"
        "E1,3-2-101,2024-03,property_fee,88,88,2024-03-02\n"
    )
    assert import_csv(client, community.site, english).json()["created"] == 1
    gbk = import_csv(client, community.site, csv_text([GOOD[1]]).encode("gb18030"), name="导出.csv").json()
    assert (gbk["created"], gbk["refused"]) == (1, [])
    assert import_csv(client, community.site, b"").status_code == 422


def test_payment_rates_per_floor_building_and_site_month_by_month(client: TestClient, community: Community) -> None:
    assert import_csv(client, community.site, csv_text(GOOD)).json()["created"] == 7
    params = {"under": community.site, "from": "2024-01", "to": "2024-02"}
    answer = client.get("/api/billing/rates", params={**params, "by": "floor"}).json()
    assert (answer["by"], answer["from"], answer["to"]) == ("floor", "2024-01", "2024-02")
    floors = answer["items"]
    by_floor = {(p["place_id"], p["period"]): p for p in floors}
    f1, f2, f3 = community.floors[1], community.floors[2], community.floors[3]
    expect = {
        (f1, "2024-01"): ("600.20", "450.15", "0.7500", 2, 1),
        (f2, "2024-01"): ("250.30", "0.10", "0.0004", 2, 1),
        (f3, "2024-01"): ("1200.00", "1200.00", "1.0000", 1, 1),
        (f1, "2024-02"): ("300.10", "300.10", "1.0000", 1, 1),
        (f2, "2024-02"): ("99.99", "0.00", "0.0000", 1, 0),
    }
    got = {
        key: (p["amount_due"], p["amount_paid"], p["rate"], p["households"], p["households_paid"])
        for key, p in by_floor.items()
    }
    assert got == expect
    buildings = client.get("/api/billing/rates", params={**params, "by": "building"}).json()["items"]
    assert [(p["place_id"], p["period"], p["amount_due"], p["amount_paid"], p["rate"]) for p in buildings] == [
        (community.tower, "2024-01", "2050.50", "1650.25", "0.8048"),
        (community.tower, "2024-02", "400.09", "300.10", "0.7501"),
    ]
    site = client.get("/api/billing/rates", params={**params, "by": "site"}).json()["items"]
    assert [(p["place_id"], p["amount_due"], p["amount_paid"]) for p in site] == [
        (community.site, "2050.50", "1650.25"),
        (community.site, "400.09", "300.10"),
    ]
    total_due = sum(Decimal(p["amount_due"]) for p in floors if p["period"] == "2024-01")
    assert total_due == Decimal(site[0]["amount_due"]), "floors add up to the site to the fen"


def test_household_standing_paid_partly_overdue(client: TestClient, community: Community) -> None:
    import_csv(client, community.site, csv_text(GOOD))
    today = today_cst()
    next_month = month_end(today).replace(day=1) if today.month == 12 else date(today.year, today.month + 1, 1)
    post = client.post(
        "/api/billing/charges",
        json={
            "site_id": community.site,
            "reference": "API-1",
            "unit": "3-2-301",
            "period": next_month.strftime("%Y-%m"),
            "item": "parking",
            "amount_due": "150.00",
        },
    )
    assert post.status_code == 201, post.text
    charge = post.json()["id"]
    standing = {
        u["address"]: u for u in client.get("/api/billing/status", params={"under": community.tower}).json()["items"]
    }
    late = (today - date(2024, 1, 31)).days
    assert (standing["3-2-101"]["status"], standing["3-2-202"]["status"]) == ("paid", "paid")
    assert (standing["3-2-102"]["status"], standing["3-2-102"]["overdue_days"]) == ("overdue", late)
    assert standing["3-2-102"]["overdue_amount"] == "150.05"
    assert (standing["3-2-201"]["overdue_days"], standing["3-2-201"]["overdue_amount"]) == (late, "350.19")
    assert standing["3-2-301"]["status"] == "unpaid", "billed, not yet due"
    assert standing["3-2-302"]["status"] == "no_bills"

    payment = {"reference": "WX-0001", "amount": "50.00", "paid_on": str(today)}
    first = client.post(f"/api/billing/charges/{charge}/payments", json=payment)
    assert first.status_code == 201
    assert client.post(f"/api/billing/charges/{charge}/payments", json=payment).status_code == 200, "idempotent"
    assert client.get(f"/api/billing/units/{community.units['3-2-301']}").json()["status"] == "partly_paid"
    too_much = client.post(
        f"/api/billing/charges/{charge}/payments", json={"reference": "WX-2", "amount": "100.01", "paid_on": str(today)}
    )
    assert too_much.status_code == 422 and "100.00" in too_much.text
    as_float = client.post(
        f"/api/billing/charges/{charge}/payments", json={"reference": "WX-3", "amount": 1.5, "paid_on": str(today)}
    )
    assert as_float.status_code == 422 and "strings" in as_float.text
    overdue_only = client.get("/api/billing/status", params={"under": community.site, "status": "overdue"}).json()
    assert sorted(u["address"] for u in overdue_only["items"]) == ["3-2-102", "3-2-201"]


def test_roles_who_writes_who_reads_who_never_sees(
    client: TestClient, community: Community, make_user: MakeUser
) -> None:
    make_user("cashier", grants=[(Role.FINANCE, community.site, None)])
    make_user("watcher", grants=[(Role.VIEWER, community.tower, None)])
    make_user("duty", grants=[(Role.OPERATOR, community.site, None)])
    for name, role in (("insp", Role.INSPECTOR), ("fire", Role.RESPONDER)):
        make_user(name, grants=[(role, community.site, None)])
    make_user("lift-co", grants=[(Role.VENDOR, community.site, ["elevator"])])
    cashier = login(client, "cashier")
    assert import_csv(client, community.site, csv_text(GOOD), cashier).json()["created"] == 7
    resident = {"name": "欧阳娜娜", "relation": "owner"}
    unit = community.units["3-2-102"]
    assert client.post(f"/api/units/{unit}/residents", json=resident, headers=cashier).status_code == 201

    for reader in ("watcher", "duty", "cashier"):
        seen = client.get(f"/api/billing/units/{unit}", headers=login(client, reader))
        assert seen.status_code == 200, reader
        assert seen.json()["household"] == "欧**娜", "household names are masked"
    for blind in ("insp", "fire", "lift-co"):
        headers = login(client, blind)
        assert client.get(f"/api/billing/units/{unit}", headers=headers).status_code == 404, blind
        assert client.get("/api/billing/rates", params={"under": community.site}, headers=headers).status_code == 404
    duty = login(client, "duty")
    assert import_csv(client, community.site, csv_text(GOOD), duty).status_code == 403, "operators read, never write"
    watcher = login(client, "watcher")
    rates = client.get(
        "/api/billing/rates",
        params={"under": community.site, "by": "building", "from": "2024-01", "to": "2024-01"},
        headers=watcher,
    )
    assert [p["place_id"] for p in rates.json()["items"]] == [community.tower]


def test_every_import_is_audited_and_each_unit_announced(client: TestClient, community: Community) -> None:
    events: list[Any] = []
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    unsubscribe = runtime.events.subscribe(lambda e: events.append(e) if e.kind == "billing" else None)
    try:
        report = import_csv(client, community.site, csv_text(GOOD)).json()
        import_csv(client, community.site, csv_text(GOOD))
    finally:
        unsubscribe()
    assert sorted(e.id for e in events) == sorted(
        community.units[a] for a in ("3-2-101", "3-2-102", "3-2-201", "3-2-202", "3-2-301")
    ), "one event per unit changed, none for a re-import that changed nothing"
    assert next(e for e in events if e.id == community.units["3-2-101"]).data["status"] == "paid"
    audit = client.get("/api/audit", params={"action": "billing.import"}).json()["items"]
    assert [row["object_id"] for row in audit][-1] == str(report["id"])
    assert audit[-1]["after"]["created"] == 7
