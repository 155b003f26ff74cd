"""Topic patterns and payload paths."""

from __future__ import annotations

import pytest

from realtime.path import MISSING, FieldPath, PathError
from realtime.topic import PatternError, TopicPattern, filter_matches


def test_named_wildcards_capture_levels() -> None:
    pattern = TopicPattern.parse("gw/{gateway}/dev/{device}/+")
    assert pattern.match("gw/G1/dev/3-2-1801/t".split("/")) == {"gateway": "G1", "device": "3-2-1801"}
    assert pattern.match("gw/G1/dev/3-2-1801".split("/")) is None
    assert pattern.match("gx/G1/dev/3-2-1801/t".split("/")) is None
    assert pattern.subscription() == "gw/+/dev/+/+"
    assert pattern.first_literal == "gw"


def test_hash_matches_the_rest() -> None:
    pattern = TopicPattern.parse("site/{device}/#")
    assert pattern.match(["site", "a"]) == {"device": "a"}
    assert pattern.match(["site", "a", "b", "c"]) == {"device": "a"}
    assert pattern.subscription() == "site/+/#"
    assert TopicPattern.parse("#").subscription() == "#"
    assert TopicPattern.parse("{device}/x").first_literal is None


@pytest.mark.parametrize("text", ["", "a/#/b", "a/x{device}", "a/{d}/{d}", "a/{1x}"])
def test_bad_patterns(text: str) -> None:
    with pytest.raises(PatternError):
        TopicPattern.parse(text)


@pytest.mark.parametrize(
    ("filt", "topic", "expected"),
    [
        ("a/+/c", "a/b/c", True),
        ("a/#", "a", True),
        ("a/#", "a/b/c", True),
        ("a/+", "a/b/c", False),
        ("#", "$SYS/x", False),
        ("$share/g/a/+", "a/b", True),
        ("a/b", "a/b/c", False),
    ],
)
def test_filter_matching(filt: str, topic: str, expected: bool) -> None:
    assert filter_matches(filt, topic) is expected


def test_paths_with_quoted_keys_and_indices() -> None:
    doc = {"ENERGY": {"Total": 5}, "PMS5003": {"PM2.5": 12}, "Total Energy": 7, "data": [{"v": 1}, {"v": 2}]}
    assert FieldPath.parse("ENERGY.Total").get(doc) == 5
    assert FieldPath.parse('PMS5003."PM2.5"').get(doc) == 12
    assert FieldPath.parse("'Total Energy'").get(doc) == 7
    assert FieldPath.parse("data.1.v").get(doc) == 2
    assert FieldPath.parse("data.9.v").get(doc) is MISSING
    assert FieldPath.parse("ENERGY.Total.x").get(doc) is MISSING
    assert FieldPath.parse('"a\\"b"').keys == ('a"b',)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("a..b", "column 3"),
        ("a.", "ends with a dot"),
        ('"open', "never closed"),
        ('"a"b', "expected '.'"),
        ("Total Energy", "must be quoted"),
    ],
)
def test_bad_paths(text: str, words: str) -> None:
    with pytest.raises(PathError, match=words):
        FieldPath.parse(text)
