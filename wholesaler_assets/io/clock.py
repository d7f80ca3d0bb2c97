"""The platform's clock file: the day a replay has released, kept beside the data.

`<data root>/clock.json` holds `{"day": "YYYY-MM-DD"}` while a replay drives the platform; without
it the platform runs on UTC time. Only `ClockResource` (resources.py) reads it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

CLOCK_FILE = "clock.json"


def write_clock(root: Path, day: dt.date) -> Path:
    """Move the clock to `day` (atomically: a reader sees the old day or the new one)."""
    root.mkdir(parents=True, exist_ok=True)
    path, staging = root / CLOCK_FILE, root / f".{CLOCK_FILE}.tmp"
    staging.write_text(json.dumps({"day": day.isoformat()}) + "\n")
    staging.replace(path)
    return path


def read_clock(root: Path) -> dt.date | None:
    """The replay's day, or None when no replay holds the clock; a broken file is an error, not 'now'."""
    path = root / CLOCK_FILE
    if not path.exists():
        return None
    try:
        return dt.date.fromisoformat(json.loads(path.read_text())["day"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path} does not hold a day ({error}); write it with `wholesaler replay` or delete it") \
            from error


def clear_clock(root: Path) -> None:
    """Give the clock back to real time."""
    (root / CLOCK_FILE).unlink(missing_ok=True)
