"""Profile loading: the shipped examples load, and every mistake names its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime.profiles import ProfileError, load_profile, load_profiles, parse_profile
from tests.realtime.helpers import PROFILES

GOOD = """\
[profile]
name = "acme"

[[message]]
topic = "acme/{device}/up"

[[message.reading]]
path = "t"
quantity = "temperature"
"""


def test_shipped_profiles_load_and_subscribe_to_their_topics() -> None:
    profiles = {p.name: p for p in load_profiles([PROFILES])}
    assert set(profiles) == {"zigbee2mqtt", "tasmota", "batch_gateway"}
    assert "tele/+/SENSOR" in profiles["tasmota"].subscriptions()
    assert "gw/+/up" in profiles["batch_gateway"].subscriptions()
    assert profiles["batch_gateway"].namespace == "lora"


def test_namespace_defaults_to_the_name() -> None:
    assert parse_profile(GOOD).namespace == "acme"


def error_of(text: str) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, "acme.toml")
    return info.value


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ('quantity = "temperature"', 'quantity = "temprature"', 9, "did you mean 'temperature'"),
        (
            'quantity = "temperature"',
            'quantity = "temperature"\nunit = "bar"',
            10,
            "cannot be converted from 'bar'",
        ),
        (
            'quantity = "temperature"',
            'quantity = "temperature"\nscale = 0',
            10,
            "'scale' must be a non-zero number",
        ),
        ('quantity = "temperature"', 'quantity = "temperature"\ninvert = true', 10, "only applies to yes/no"),
        ('path = "t"', 'path = "a..b"', 8, "empty key"),
        ('path = "t"', 'path = "Total Energy"', 8, "must be quoted"),
        ('path = "t"', 'pth = "t"', 8, "did you mean 'path'"),
        ('topic = "acme/{device}/up"', 'topic = "acme/dev{device}/up"', 5, "mixes text with a wildcard"),
        ('topic = "acme/{device}/up"', 'topic = "acme/#/up"', 5, "must be the last level"),
        ('topic = "acme/{device}/up"', 'topic = "acme/{id}/up"', 5, "has no {device} wildcard"),
        ('topic = "acme/{device}/up"', 'topic = "acme/{device}/up"\nvia = "{gw}"', 6, "does not capture"),
        (
            'topic = "acme/{device}/up"',
            'topic = "acme/{device}/up"\ntime = "ts"\ntime_zone = "Mars/Olympus"',
            7,
            "unknown time zone",
        ),
        (
            'topic = "acme/{device}/up"',
            'topic = "acme/{device}/up"\ntime_format = "epoch_ms"',
            4,
            "need 'time'",
        ),
        ('topic = "acme/{device}/up"', 'topic = "acme/{device}/up"\nformat = "xml"', 6, "one of json, text"),
        (
            'topic = "acme/{device}/up"',
            'topic = "acme/{device}/up"\nitems = "data"',
            6,
            "needs 'device_path'",
        ),
        ('name = "acme"', "name = 42", 2, "non-empty string"),
        ('name = "acme"', 'name = "acme"\ncolour = "red"', 3, "unknown key 'colour'"),
        ('path = "t"', 'path = "t"\ntopic = "device"', 8, "not both"),
        ('path = "t"', 'path = "t\nx', 8, "not valid TOML"),
    ],
)
def test_errors_point_at_the_line(old: str, new: str, line: int, words: str) -> None:
    text = GOOD.replace(old, new)
    error = error_of(text)
    assert error.line == line, (str(error), text)
    assert words in error.message
    assert str(error).startswith(f"acme.toml:{line}: ")


def test_error_in_a_later_table_of_an_array_points_at_that_table() -> None:
    text = (
        GOOD
        + '\n[[message.reading]]\npath = "h"\nquantity = "humidity"\n'
        + '\n[[message]]\ntopic = "acme/{device}/b"\n'
        + '\n[[message.reading]]\npath = "x"\nquantity = "humidty"\n'
    )
    error = error_of(text)
    assert error.line == text.splitlines().index('quantity = "humidty"') + 1


def test_message_without_readings_and_missing_profile_table() -> None:
    assert (
        "at least one [[message.reading]]"
        in error_of('[profile]\nname = "a"\n[[message]]\ntopic = "a/{device}"\n').message
    )
    assert error_of('[[message]]\ntopic = "a"\n').line == 1
    assert "no [[message]]" in error_of('[profile]\nname = "a"\n').message


def test_text_payloads_take_no_path() -> None:
    text = (
        '[profile]\nname = "a"\n[[message]]\ntopic = "a/{device}"\nformat = "text"\n[[message.reading]]\n'
        'quantity = "co2"\npath = "v"\n'
    )
    assert error_of(text).line == 8


def test_files_and_duplicate_names(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(ProfileError, match="already used by"):
        load_profiles([tmp_path])
    (tmp_path / "c.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "c.toml")
    assert load_profile(tmp_path / "a.toml").source == str(tmp_path / "a.toml")
