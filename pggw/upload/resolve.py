"""External id → internal id resolution for reference columns CDF does not accept by
external id (``data_set_external_id`` → ``dataSetId``), with a bounded cache."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from pggw.upload.mapping import BYIDS, Item

__all__ = ["Resolver"]

Post = Callable[[str, dict[str, Any]], Awaitable[Any]]


class Resolver:
    """Resolves and caches external ids per (scope, table); ``scope`` separates CDF
    projects/identities. Unknown external ids are not cached."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
        self._cache: OrderedDict[tuple[Any, str, str], int] = OrderedDict()
        self.lookups = 0

    def cached(self, scope: Any, table: str, external_id: str) -> int | None:
        key = (scope, table, external_id)
        value = self._cache.get(key)
        if value is not None:
            self._cache.move_to_end(key)
        return value

    def forget_ids(self, scope: Any, ids: Iterable[int]) -> None:
        """Drop cache entries whose id CDF reported missing (deleted and recreated)."""
        stale = set(ids)
        if stale:
            for key in [k for k, v in self._cache.items() if k[0] == scope and v in stale]:
                del self._cache[key]

    def _store(self, scope: Any, table: str, external_id: str, value: int) -> None:
        self._cache[(scope, table, external_id)] = value
        if len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)

    async def lookup(
        self, scope: Any, table: str, external_ids: Iterable[str], post: Post
    ) -> dict[str, int]:
        """Ids of the external ids CDF knows (cached ones without a request)."""
        found: dict[str, int] = {}
        todo: list[str] = []
        for x in dict.fromkeys(external_ids):
            v = self.cached(scope, table, x)
            if v is None:
                todo.append(x)
            else:
                found[x] = v
        path = BYIDS.get(table)
        if todo and path is None:
            return found
        for a in range(0, len(todo), 1000):
            part = todo[a : a + 1000]
            self.lookups += 1
            response = await post(
                path,  # type: ignore[arg-type]
                {"items": [{"externalId": x} for x in part], "ignoreUnknownIds": True},
            )
            for item in response.items:
                if isinstance(item, dict) and "externalId" in item and "id" in item:
                    found[item["externalId"]] = item["id"]
                    self._store(scope, table, item["externalId"], item["id"])
        return found

    async def resolve_items(
        self, scope: Any, items: list[Item], post: Post
    ) -> list[tuple[Item, list[str]]]:
        """Fill resolved ids into the items' bodies; return the items with external ids
        CDF does not know (and those ids), leaving them unresolved."""
        wanted: dict[str, set[str]] = {}
        for it in items:
            for r in it.resolve:
                wanted.setdefault(r.table, set()).update(r.external_ids)
        if not wanted:
            return []
        known = {t: await self.lookup(scope, t, sorted(ids), post) for t, ids in wanted.items()}
        unresolved: list[tuple[Item, list[str]]] = []
        for it in items:
            if not it.resolve:
                continue
            missing = [x for r in it.resolve for x in r.external_ids if x not in known[r.table]]
            if missing:
                unresolved.append((it, missing))
                continue
            for r in it.resolve:
                ids = [known[r.table][x] for x in r.external_ids]
                value: Any = ids if r.many else ids[0]
                if r.update:
                    it.body.setdefault("update", {})[r.target] = {"set": value}
                else:
                    it.body[r.target] = value
                it.refs = (*it.refs, *(("id", i) for i in ids))
            it.resolve = ()
        return unresolved
