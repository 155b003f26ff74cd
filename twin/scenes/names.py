"""Fake but believable Chinese residents: a surname, a given name, a mobile number.

Surnames are drawn by their real frequency (王, 李, 张, 刘, 陈 are a third of the country);
given names are one or two characters from a list of common ones; mobile numbers start with a
real carrier prefix. Everything comes from the ``random.Random`` it is given, so a seed
reproduces the same people. No one here exists.
"""

from __future__ import annotations

import random

_SURNAMES = (
    ("王", 72),
    ("李", 71),
    ("张", 68),
    ("刘", 55),
    ("陈", 45),
    ("杨", 31),
    ("赵", 20),
    ("黄", 19),
    ("周", 18),
    ("吴", 17),
    ("徐", 14),
    ("孙", 13),
    ("胡", 11),
    ("朱", 11),
    ("高", 10),
    ("林", 10),
    ("何", 10),
    ("郭", 10),
    ("马", 9),
    ("罗", 8),
    ("梁", 7),
    ("宋", 6),
    ("郑", 6),
    ("谢", 6),
    ("韩", 5),
    ("唐", 5),
    ("冯", 5),
    ("于", 5),
    ("董", 5),
    ("萧", 4),
    ("程", 4),
    ("曹", 4),
    ("袁", 4),
    ("邓", 4),
    ("许", 4),
    ("傅", 4),
    ("沈", 4),
    ("曾", 4),
    ("彭", 4),
    ("吕", 3),
    ("欧阳", 1),
    ("司马", 1),
    ("诸葛", 1),
)
_GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀",
    "霞",
    "平",
    "刚",
    "桂",
    "英",
    "华",
    "玉",
    "兰",
    "萍",
    "鹏",
    "辉",
    "红",
    "建",
    "国",
    "文",
    "斌",
    "宇",
    "浩",
    "凯",
    "欣",
    "怡",
    "婷",
    "雪",
    "琳",
    "晨",
    "阳",
    "梓",
    "涵",
    "子",
    "轩",
    "思",
    "雨",
    "嘉",
    "佳",
    "一",
    "诺",
    "博",
    "睿",
    "泽",
    "晓",
    "海",
    "波",
    "云",
    "峰",
    "春",
    "丹",
)
_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)
_NAMES, _WEIGHTS = zip(*_SURNAMES, strict=True)


def chinese_name(rng: random.Random, surname: str | None = None) -> str:
    """Return a full name: the given surname (a family's) or a drawn one, then one or two characters."""
    family = surname or rng.choices(_NAMES, weights=_WEIGHTS)[0]
    given = "".join(rng.choice(_GIVEN) for _ in range(1 if rng.random() < 0.3 else 2))
    return family + given


def surname_of(name: str) -> str:
    """Return the surname of a name this module made (two characters for the compound ones)."""
    return name[:2] if name[:2] in _NAMES else name[0]


def mobile_number(rng: random.Random) -> str:
    """Return an eleven-digit mainland mobile number."""
    return rng.choice(_PREFIXES) + f"{rng.randrange(10**8):08d}"
