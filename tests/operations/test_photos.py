"""Ticket photos: proven by their bytes, capped in size, stored by generated names, served in scope only."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api_fixtures import MakeUser, login
from tests.twin.community import Community
from twin.auth.roles import Role
from twin.operations.photos import MAX_PHOTO_BYTES, sniff


def png(width: int = 2, height: int = 2) -> bytes:
    """Return a real, tiny PNG (what a phone would send, only smaller)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def ticket(client: TestClient, place: int) -> int:
    body = {"place_id": place, "category": "plumbing", "description": "天花板渗水"}
    response = client.post("/api/tickets", json=body)
    assert response.status_code == 201
    return int(response.json()["id"])


def upload(client: TestClient, ticket_id: int, name: str, data: bytes, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    files = {"file": (name, data, "image/png")}
    return client.post(f"/api/uploads/tickets/{ticket_id}/photos", files=files, headers=headers)


def photo_files(home: Path) -> list[Path]:
    folder = home / "photos"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_png_is_kept_and_served_back(client: TestClient, community: Community, tmp_path: Path) -> None:
    ticket_id = ticket(client, community.units["3-2-101"])
    data = png()
    response = upload(client, ticket_id, "../../etc/passwd.png", data)
    assert response.status_code == 201, response.text
    photo = response.json()
    assert photo["media_type"] == "image/png" and photo["size"] == len(data)
    stored = photo_files(tmp_path / "var")
    assert len(stored) == 1 and stored[0].name.endswith(".png") and "passwd" not in stored[0].name
    served = client.get(photo["url"])
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"] == "image/png" and served.headers["x-content-type-options"] == "nosniff"
    detail = client.get(f"/api/tickets/{ticket_id}").json()
    assert [p["id"] for p in detail["photos"]] == [photo["id"]]
    assert detail["history"][-1]["kind"] == "photo"


def test_a_renamed_text_file_is_refused(client: TestClient, community: Community, tmp_path: Path) -> None:
    ticket_id = ticket(client, community.units["3-2-101"])
    response = upload(client, ticket_id, "leak.jpg", b"just some text, not a photo\n" * 10)
    assert response.status_code == 415 and "JPEG, PNG or WebP" in response.text
    assert upload(client, ticket_id, "empty.png", b"").status_code == 415
    assert photo_files(tmp_path / "var") == [], "nothing of a refused file stays on disk"
    assert client.get(f"/api/tickets/{ticket_id}").json()["photos"] == []


def test_an_oversized_photo_is_refused(client: TestClient, community: Community, tmp_path: Path) -> None:
    ticket_id = ticket(client, community.units["3-2-101"])
    big = png() + b"\x00" * MAX_PHOTO_BYTES
    response = upload(client, ticket_id, "big.png", big)
    assert response.status_code == 413
    assert photo_files(tmp_path / "var") == []


def test_photos_are_served_only_in_scope_and_by_their_ticket(
    client: TestClient, community: Community, make_user: MakeUser
) -> None:
    outside = ticket(client, community.other_tower)
    inside = ticket(client, community.units["3-2-101"])
    photo = upload(client, outside, "a.png", png()).json()
    make_user("insp", grants=[(Role.INSPECTOR, community.tower, None)])
    insp = login(client, "insp")
    assert client.get(photo["url"], headers=insp).status_code == 404
    assert upload(client, outside, "b.png", png(), insp).status_code == 404
    assert client.get(f"/api/tickets/{inside}/photos/{photo['id']}").status_code == 404, "only through its own ticket"
    assert client.get(f"/api/tickets/{outside}/photos/..%2F..%2Fsecret.key").status_code in (404, 422)
    assert upload(client, inside, "c.png", png(), insp).status_code == 201


def test_magic_bytes() -> None:
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF") == ("image/jpeg", "jpg")
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == ("image/webp", "webp")
    assert sniff(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert sniff(b"GIF89a") is None
    assert sniff(b"<svg xmlns=") is None
