"""Flapping: a condition that raises and clears more often than its rule allows in an hour.

Hysteresis, hold times and repeat counts keep most noise to one alarm; what still gets through (a
gateway that drops every few minutes, a threshold set inside a value's normal swing) would re-open
the same alarm again and again, each time a notice to somebody. Past ``flap_per_h`` raises within
an hour the alarm is held open and marked flapping, told once: its later clears and raises are
not told. The hold ends after an hour with no raise or clear; the alarm then follows its condition
again: cleared if the condition is gone, an ordinary open alarm if it stayed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from realtime.rules.verdict import Verdict
from twin.alarms.rules import DeviceRule

if TYPE_CHECKING:
    from realtime.rules.watch import Watch

WINDOW_S = 3600.0
"""Raises are counted over the last hour of reading time."""
QUIET = timedelta(hours=1)
"""A held alarm is released after this long without a raise or a clear."""
NOTE = " — flapping: "
"""Where a held alarm's message ends and the flapping notice begins."""


def guard(rule: DeviceRule, watch: Watch, verdict: Verdict | None, flipped: bool, at: datetime) -> Verdict | None:
    """Pass a machine's verdict on, hold it back while flapping, or end a hold that stayed quiet.

    ``flipped``: the verdict raised or cleared the condition (not only worsened it).
    """
    if watch.held is not None:
        if flipped:
            watch.last_flip = at
            return None
        if verdict is not None:  # worse while held: told, still marked flapping
            watch.held = verdict
            return flagged(verdict, len(watch.raises or ()))
        return release_due(watch, at)
    if not flipped or verdict is None or verdict.action != "raise" or rule.flap_per_h == 0:
        return verdict
    raises = watch.raises
    if raises is None:
        raises = watch.raises = deque()
    t = at.timestamp()
    raises.append(t)
    while raises[0] <= t - WINDOW_S:
        raises.popleft()
    if len(raises) <= rule.flap_per_h:
        return verdict
    watch.held, watch.last_flip = verdict, at
    return flagged(verdict, len(raises))


def flagged(verdict: Verdict, raises: int) -> Verdict:
    """Return a raise marked flapping, its message saying so."""
    note = f"{NOTE}{raises} raises within an hour, held open"
    return replace(verdict, message=verdict.message + note, data={**verdict.data, "flapping": True})


def release_due(watch: Watch, now: datetime) -> Verdict | None:
    """End a flapping hold after an hour without a flip: clear the alarm, or show it as open again."""
    held, since = watch.held, watch.last_flip
    if held is None or since is None or now - since < QUIET:
        return None
    watch.held, watch.raises, watch.last_flip = None, None, None
    if not watch.active:
        return Verdict("clear")
    return replace(held, severity=watch.severity or held.severity, data={**held.data, "flapping": False})
