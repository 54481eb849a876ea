"""Concurrent writers to one recipe: If-Match lets exactly one win; lists never mix."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.recipes.support import RECIPES, payload


def test_twenty_concurrent_patches_with_one_etag_let_exactly_one_win(client, as_alice) -> None:
    created = client.post(RECIPES, json=payload(), headers=as_alice)
    url, etag = created.headers["location"], created.headers["etag"]
    start = threading.Barrier(20)  # release all writers together, so they really overlap

    def patch(i: int) -> int:
        start.wait(timeout=30)
        return client.patch(url, json={"title": f"Writer {i}", "tags": [f"writer-{i}"]},
                            headers={**as_alice, "If-Match": etag}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(patch, range(20)))
    assert sorted(statuses) == [200] + [412] * 19
    final = client.get(url, headers=as_alice).json()
    assert final["version"] == 2
    winner = final["title"].removeprefix("Writer ")
    assert final["tags"] == [f"writer-{winner}"]


def test_concurrent_patches_without_if_match_never_mix_lists(client, as_alice) -> None:
    url = client.post(RECIPES, json=payload(), headers=as_alice).headers["location"]

    def patch(i: int) -> int:
        steps = [{"text": f"writer {i} step {n}"} for n in range(5)]
        return client.patch(url, json={"steps": steps}, headers=as_alice).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(patch, range(10)))
    assert statuses == [200] * 10
    final = client.get(url, headers=as_alice).json()
    writers = {step["text"].split(" step ")[0] for step in final["steps"]}
    assert len(final["steps"]) == 5 and len(writers) == 1
    assert final["version"] == 11


# --- delete -------------------------------------------------------------------------------------
