"""`search/archive.jsonl`: every evaluated network with its measures, which is also the cache.

One line is appended (and fsynced) as soon as a network's measures are all known, so a kill
loses at most the networks being evaluated at that moment. On start the file is read back and
its networks are never evaluated again; because the values come from the file, a resumed search
sees exactly the numbers the interrupted one saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shiftnas.files import append_jsonl, read_jsonl, write_bytes_atomic
from shiftnas.search.arch import Arch

Values = dict[str, float | None]  # None: not evaluated (a cheap budget already failed)


class Archive:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.records: dict[str, dict[str, Any]] = {}
        self._drop_torn_tail()
        for record in read_jsonl(self.path):
            self.records.setdefault(record["id"], record)

    def _drop_torn_tail(self) -> None:
        """A kill mid-append leaves a line without its newline; the next append would glue a
        record onto it, so cut it off before appending anything."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            write_bytes_atomic(self.path, data[: data.rfind(b"\n") + 1])

    def __contains__(self, arch_id: str) -> bool:
        return arch_id in self.records

    def __len__(self) -> int:
        return len(self.records)

    def values(self, arch_id: str) -> Values:
        return dict(self.records[arch_id]["objectives"])

    def add(self, arch: Arch, text: str, values: Values, generation: int) -> None:
        record = {
            "id": arch.id,
            "arch": arch.to_json(),
            "string": text,
            "generation": generation,
            "objectives": values,
        }
        append_jsonl(self.path, record)
        self.records[arch.id] = record

    def all(self) -> list[dict[str, Any]]:
        return list(self.records.values())
