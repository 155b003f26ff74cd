"""User names: one spelling per account, and no look-alike of an existing one.

Reproduces a finding of the outside test: ``аdmin`` (a Cyrillic ``а``) and ``ADMIN`` were
accepted as new accounts beside ``admin``.
"""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api_fixtures import ADMIN_PASSWORD, login
from twin.errors import ValidationError


def _add(client: TestClient, username: str) -> tuple[int, str]:
    response = client.post("/api/users", json={"username": username, "password": ADMIN_PASSWORD})
    detail = response.json().get("detail", "")
    return response.status_code, detail if isinstance(detail, str) else detail[0]["msg"]


@pytest.mark.parametrize(
    ("username", "why"),
    [
        ("ADMIN", "already exists"),
        ("Admin", "already exists"),
        ("ａｄｍｉｎ", "already exists"),  # full-width Latin: NFKC makes it admin
        ("\u0430dmin", "mixes the scripts CYRILLIC, LATIN"),  # Cyrillic а among Latin letters
        ("adm\u0456n", "mixes the scripts CYRILLIC, LATIN"),  # Cyrillic і
        ("\u03b1dmin", "mixes the scripts GREEK, LATIN"),  # Greek α
    ],
)
def test_a_name_like_an_existing_one_is_refused(client: TestClient, username: str, why: str) -> None:
    assert _add(client, "admin")[0] == 201
    status, detail = _add(client, username)
    assert status == 422 and why in detail, detail


def test_a_whole_name_in_look_alike_letters_is_refused(client: TestClient) -> None:
    assert _add(client, "ape")[0] == 201
    status, detail = _add(client, "\u0430\u0440\u0435")  # аре, all Cyrillic
    assert status == 422 and "looks like the existing account 'ape'" in detail
    assert _add(client, "paypal")[0] == 201
    status, detail = _add(client, "paypa1")
    assert status == 422 and "looks like the existing account 'paypal'" in detail


def test_names_are_stored_normalised_and_logged_in_however_cased(client: TestClient) -> None:
    assert _add(client, "Zhang.San")[0] == 201
    assert _add(client, "张三")[0] == 201, "a Chinese name is one script"
    assert _add(client, "やまだ太郎")[0] == 201, "Japanese mixes kana and Han"
    listed = {user["username"] for user in client.get("/api/users").json()["items"]}
    assert {"zhang.san", "张三", "やまだ太郎"} <= listed
    for spelling in ("ZHANG.SAN", "ｚｈａｎｇ.ｓａｎ", "zhang.san"):
        assert client.get("/api/me", headers=login(client, spelling)).json()["username"] == "zhang.san"


def test_the_skeleton_maps_look_alikes_to_latin() -> None:
    from twin.auth import names

    assert names.skeleton("\u0440\u0430\u0443\u0440\u0430\u04cf") == names.skeleton("paypal")
    assert names.skeleton("ΑΡΕ") == names.skeleton("ape")  # Greek capitals, case-folded first
    assert names.skeleton("g00gle") == names.skeleton("google")
    assert names.skeleton("alice") != names.skeleton("alec")
    with pytest.raises(ValidationError, match="letters, digits"):
        names.checked("bad name")
    with pytest.raises(ValidationError, match="letters, digits"):
        names.checked("x" * 65)


def test_a_name_that_grows_under_nfkc_is_refused_not_an_error(client: TestClient) -> None:
    grown = "\ufdfa" * 10  # one character each, eighteen after NFKC
    assert _add(client, grown)[0] == 422
    answer = client.post("/api/auth/login", json={"username": grown, "password": ADMIN_PASSWORD})
    assert answer.status_code == 401, answer.text


def test_the_migration_normalises_existing_names_where_none_become_alike(db_url: str, postgis_conninfo: str) -> None:
    from alembic import command

    from twin.store.engine import alembic_config, one_off_engine, upgrade

    with one_off_engine(db_url) as engine, engine.begin() as conn:
        cfg = alembic_config(db_url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008b-1")
    with psycopg.connect(postgis_conninfo) as conn:
        for name in ("Root", "ＷＡＬＬ", "Bob", "BOB"):
            conn.execute("INSERT INTO users (username, disabled, wall_display) VALUES (%s, false, false)", [name])
    upgrade(db_url)
    with psycopg.connect(postgis_conninfo) as conn:
        stored = {row[0] for row in conn.execute("SELECT username FROM users")}
    assert stored == {"root", "wall", "Bob", "BOB"}, "two names that become alike are left for an administrator"
