"""`search/archive.jsonl`: every evaluated network with its measures, which is also the cache.

One line is appended (and fsynced) as soon as a network's measures are all known, so a kill
loses at most the networks being evaluated at that moment. On start the file is read back and
its networks are never evaluated again; because the values come from the file, a resumed search
sees exactly the numbers the interrupted one saw. Each line is checked against `ArchiveRecord`
as it is read: a damaged one is reported with its line number (`ShiftnasError`), a torn last
line (a kill mid-append) is dropped with a warning and cut off by the next append.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from shiftnas.arch import Arch
from shiftnas.files import append_jsonl, damaged, numbered_jsonl

Values = dict[str, float | None]  # None: not evaluated (a cheap budget already failed)


class ArchiveRecord(BaseModel):
    """The fields of one archive line that the search reads back."""

    model_config = ConfigDict(extra="allow")
    id: str
    arch: dict[str, Any]
    objectives: Values


class Archive:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.records: dict[str, dict[str, Any]] = {}
        for number, record in numbered_jsonl(self.path):
            try:
                ArchiveRecord.model_validate(record)
            except ValidationError as err:
                first = err.errors()[0]
                field = ".".join(map(str, first["loc"])) or "record"
                raise damaged(self.path, f"line {number}: {field}: {first['msg']}") from None
            self.records.setdefault(record["id"], record)

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
