"""Secrets out of the access log: the values of ``key=``, ``token=`` and the like are redacted.

An emergency link is ``/respond?key=…``; whoever reads the server's log could otherwise open the
responder view with it. Uvicorn's access log writes each request's path with its query string,
so a filter on that logger rewrites the path before any handler formats it. The names are
matched without regard to case and to ``-``/``_`` (``access_token``, ``Access-Token``).
"""

from __future__ import annotations

import logging
import re

SECRET_PARAMETERS = frozenset(
    {"key", "apikey", "token", "accesstoken", "refreshtoken", "idtoken", "password", "secret", "signature"}
)
"""Query parameter names whose values are never logged, compared lower-case without ``-`` and ``_``."""
REDACTED = "[redacted]"
ACCESS_LOGGER = "uvicorn.access"

_PARAMETER = re.compile(r"(?P<sep>[?&;])(?P<name>[^=&;#]+)=(?P<value>[^&;#]*)")


def redact(path: str) -> str:
    """Return a path with the values of secret query parameters replaced."""
    if "?" not in path:
        return path

    def hide(match: re.Match[str]) -> str:
        name = match["name"]
        if re.sub(r"[-_]|%2[dD]|%5[fF]", "", name).lower() not in SECRET_PARAMETERS:
            return match[0]
        return f"{match['sep']}{name}={REDACTED}"

    return _PARAMETER.sub(hide, path)


class RedactSecrets(logging.Filter):
    """Rewrite the path of an access-log record (uvicorn passes it as the third argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, with any secret in its path redacted."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def install() -> None:
    """Put the filter on the access logger once (after the server has configured its logging)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
