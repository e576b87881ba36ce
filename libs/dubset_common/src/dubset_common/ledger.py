"""How a worker notices a request that keeps killing it (out of memory, a native crash).

A worker that dies mid-request never commits it, so the broker hands the same request to the
next worker, which dies too: one poisoned episode would block its partition for everyone.
Before working on a request the worker records one more delivery of it in the object store
(`workers/<stage>/deliveries/<request id>.json`); a finished request's entry is removed. A
request that arrives with `max_crashes` unfinished deliveries is failed instead of run.
"""

from __future__ import annotations

import json

from dubset_common.errors import InvalidInputError, NotFoundError
from dubset_common.keys import check_id, join_key
from dubset_common.objstore import ObjectStore

MAX_ENTRY_BYTES = 4096


class DeliveryLedger:
    """Unfinished deliveries per request id of one stage, kept in the object store."""

    def __init__(self, store: ObjectStore, stage: str) -> None:
        self.store = store
        self.stage = stage

    def _key(self, request_id: str) -> str:
        return join_key("workers", self.stage, "deliveries", f"{check_id(request_id)}.json")

    def unfinished(self, request_id: str) -> int:
        """How many earlier deliveries of this request never finished."""
        try:
            raw = self.store.get_bytes(self._key(request_id), max_bytes=MAX_ENTRY_BYTES)
        except NotFoundError:
            return 0
        try:
            count = json.loads(raw)["deliveries"]
        except (ValueError, KeyError, TypeError):
            return 0  # unreadable entry: count afresh
        return count if isinstance(count, int) and count >= 0 else 0

    def begin(self, request_id: str) -> int:
        """Record one more delivery; returns the number of earlier unfinished ones."""
        earlier = self.unfinished(request_id)
        self._write(request_id, earlier + 1)
        return earlier

    def release(self, request_id: str, earlier: int) -> None:
        """Undo begin: the worker is stopping cleanly, so this delivery was no crash."""
        if earlier:
            self._write(request_id, earlier)
        else:
            self.finish(request_id)

    def finish(self, request_id: str) -> None:
        """The request is answered and committed: forget it."""
        self.store.delete(self._key(request_id))

    def _write(self, request_id: str, count: int) -> None:
        data = json.dumps({"deliveries": count}).encode()
        self.store.put_bytes(self._key(request_id), data, "application/json")


def safe_request_id(request_id: str) -> bool:
    """Whether the id can name a ledger entry (a hostile one is refused by the stage anyway)."""
    try:
        check_id(request_id)
    except InvalidInputError:
        return False
    return True
