"""Work done once per group of objects within one run, e.g. per revision result in a trend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar, cast

T = TypeVar("T")


def once_per_objects(
    memo: dict[str, object] | None, table: str, objects: Sequence[object], make: Callable[[], T]
) -> T:
    """`make()`, computed once per identity of `objects` within one run (the memo's lifetime).

    Analyzers hand back the very same result object for an unchanged input within one process (a
    trend audits hundreds of revisions, most of which share their trees), and work derived from it
    (sorting, judging, scoring) is pure. The memo keeps the objects alive, so their identities
    cannot be reused by others while they are keys. Without a memo, `make()` runs each time.
    """
    if memo is None:
        return make()
    known = memo.setdefault(table, {})
    assert isinstance(known, dict)  # noqa: S101 - tables under these names are only made here
    key = tuple(id(o) for o in objects)
    found = known.get(key)
    if found is None:
        found = known[key] = (tuple(objects), make())
    return cast("T", found[1])
