"""Posting an alert's JSON to a webhook (the only place the platform talks to a pager or a chat)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class AlertNotDelivered(RuntimeError):
    """The webhook refused the alert or could not be reached (the message says which)."""


def post_json(url: str, payload: dict[str, Any], timeout_seconds: float) -> int:
    """POST `payload` as JSON; returns the HTTP status, raises `AlertNotDelivered` unless it is 2xx."""
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise AlertNotDelivered(f"webhook {url} answered {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise AlertNotDelivered(f"webhook {url} unreachable: {exc}") from exc
