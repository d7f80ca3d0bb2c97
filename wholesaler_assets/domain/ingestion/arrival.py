"""When a landing file has finished arriving.

A file still being copied into an inbox looks like a truncated file. The sensor takes a file only
when it is stable:

- its `<name>.done` marker exists (the sender says the copy is complete), or
- two consecutive looks saw the same size and modification time (the previous look is kept in
  the sensor's cursor, so the rule holds across sensor ticks and daemon restarts).

Renaming a file into the inbox in one step (write `x.csv.part`, then `mv` to `x.csv`) also works:
the partial name is skipped, being neither .csv nor .parquet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

DONE_SUFFIX = ".done"


@dataclass(frozen=True)
class FileLook:
    """What one look at an inbox saw of one file."""

    source: str
    name: str
    size: int
    mtime_ns: int
    done_marker: bool = False

    @property
    def path_key(self) -> str:
        return f"{self.source}/{self.name}"

    @property
    def state(self) -> tuple[int, int]:
        return self.size, self.mtime_ns


def ready_files(looks: Iterable[FileLook],
                previous: dict[str, tuple[int, int]]) -> tuple[list[FileLook], list[FileLook]]:
    """Split this look's files into (ready, still arriving) against the previous look's states."""
    ready: list[FileLook] = []
    arriving: list[FileLook] = []
    for look in looks:
        stable = previous.get(look.path_key) == look.state
        (ready if look.done_marker or stable else arriving).append(look)
    return ready, arriving


def cursor_of(looks: Iterable[FileLook]) -> str:
    """The sensor cursor remembering this look: file -> [size, mtime_ns]."""
    return json.dumps({look.path_key: list(look.state) for look in looks}, sort_keys=True)


def previous_look(cursor: str | None) -> dict[str, tuple[int, int]]:
    """The states a cursor remembers; an empty or foreign cursor remembers nothing."""
    try:
        data = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: (int(v[0]), int(v[1])) for key, v in data.items() if isinstance(v, list) and len(v) == 2}
