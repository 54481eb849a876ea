"""The writers of bench/faults.py and the check of what the database holds afterwards.

Each writer is one cook (a user of its own) doing what the app does on a bad network:
create recipes with an Idempotency-Key and retry a create until it is answered (the same
key and bytes each time), edit its recipes with If-Match, delete some. Every answer is
recorded with the phase it fell in; every acknowledged write is checked in the database
at the end.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Engine, text

API = "/api/v1"
#: A create is retried (same key, same bytes) this many times before it is left unresolved.
CREATE_ATTEMPTS = 40
RETRY_PAUSE = 0.25
#: Answers after which a create is retried: the request may or may not have committed.
AMBIGUOUS = {409, 429, 500, 502, 503, 504}


@dataclass
class Intent:
    """One recipe the cook means to create, and what the server acknowledged about it."""

    nonce: str
    key: str
    body: bytes
    ingredients: int
    steps: int
    tags: list[str]
    recipe_id: str | None = None        # set once a 201 (first or replay) came back
    etag: str | None = None
    title: str | None = None            # the last acknowledged title
    title_uncertain: bool = False       # a PATCH went unanswered: either title may hold
    deleted: bool = False               # a DELETE was acknowledged
    delete_uncertain: bool = False


@dataclass
class Ledger:
    phase: str = "baseline"
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: (monotonic time, phase, status or 0 for a transport error)
    answers: list[tuple[float, str, int]] = field(default_factory=list)
    intents: list[Intent] = field(default_factory=list)
    replays: int = 0
    #: DELETEs answered 404: nginx repeats a DELETE (an idempotent method) whose worker
    #: died mid-request, and the repeat finds the recipe already gone.
    deletes_found_gone: int = 0

    def record(self, status: int) -> None:
        with self.lock:
            self.answers.append((time.monotonic(), self.phase, status))

    def by_phase(self) -> dict[str, Counter[str]]:
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for _, phase, status in self.answers:
            kind = ("transport" if status == 0 else "2xx" if status < 300 else
                    "500" if status == 500 else "5xx" if status >= 500 else "4xx")
            table[phase][kind] += 1
            table[phase]["requests"] += 1
        return table

    def first_success_after(self, moment: float) -> float | None:
        with self.lock:
            later = [t for t, _, status in self.answers if t >= moment and 200 <= status < 300]
        return min(later) - moment if later else None


def recipe_payload(nonce: str, rng: random.Random) -> tuple[dict[str, Any], int, int, list[str]]:
    ingredients = rng.randint(1, 12)
    steps = rng.randint(1, 8)
    tags = sorted({f"t{rng.randint(0, 30)}" for _ in range(rng.randint(0, 4))})
    body = {
        "title": f"Fault stew {nonce[:8]}", "description": f"faults:{nonce}",
        "servings": 2, "tags": tags,
        "ingredients": [{"quantity": str(i + 1), "unit": "g", "name": f"item {i}"}
                        for i in range(ingredients)],
        "steps": [{"text": f"Step {i}"} for i in range(steps)],
    }
    return body, ingredients, steps, tags


class Cook(threading.Thread):
    def __init__(self, base_url: str, token: str, ledger: Ledger, stop: threading.Event,
                 seed: int) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base_url, timeout=15.0,
                                   headers={"Authorization": f"Bearer {token}"})
        self.ledger, self.stop_event, self.rng = ledger, stop, random.Random(seed)
        self.mine: list[Intent] = []

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.TransportError:
            self.ledger.record(0)
            return None
        self.ledger.record(response.status_code)
        return response

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                live = [i for i in self.mine if i.recipe_id and not i.deleted
                        and not i.delete_uncertain]
                roll = self.rng.random()
                if not live or roll < 0.5:
                    self.create()
                elif roll < 0.8:
                    self.patch(self.rng.choice(live))
                elif roll < 0.9:
                    self.delete(self.rng.choice(live))
                else:
                    self.call("GET", f"{API}/recipes", params={"limit": 20})
        finally:
            self.client.close()

    def create(self) -> None:
        nonce = uuid.uuid4().hex
        body, ingredients, steps, tags = recipe_payload(nonce, self.rng)
        intent = Intent(nonce, f"faults-{nonce}", json.dumps(body).encode(), ingredients,
                        steps, tags)
        with self.ledger.lock:
            self.ledger.intents.append(intent)
        self.mine.append(intent)
        headers = {"Idempotency-Key": intent.key, "Content-Type": "application/json"}
        for _ in range(CREATE_ATTEMPTS):
            response = self.call("POST", f"{API}/recipes", content=intent.body, headers=headers)
            if response is not None and response.status_code == 201:
                created = response.json()
                intent.recipe_id, intent.etag = created["id"], response.headers["etag"]
                intent.title = created["title"]
                if response.headers.get("idempotent-replayed") == "true":
                    with self.ledger.lock:
                        self.ledger.replays += 1
                return
            if response is not None and response.status_code not in AMBIGUOUS:
                raise RuntimeError(f"create answered {response.status_code}: {response.text}")
            time.sleep(RETRY_PAUSE)

    def patch(self, intent: Intent) -> None:
        title = f"Edited {uuid.uuid4().hex[:8]}"
        response = self.call("PATCH", f"{API}/recipes/{intent.recipe_id}",
                             json={"title": title}, headers={"If-Match": intent.etag or ""})
        if response is None or response.status_code >= 500:
            intent.title_uncertain = True
            intent.etag = None  # unknown now: the next PATCH gets 412 and re-reads
        elif response.status_code == 200:
            intent.title, intent.etag = title, response.headers["etag"]
        elif response.status_code == 412:
            self.reread(intent)

    def reread(self, intent: Intent) -> None:
        response = self.call("GET", f"{API}/recipes/{intent.recipe_id}")
        if response is not None and response.status_code == 200:
            intent.etag = response.headers["etag"]

    def delete(self, intent: Intent) -> None:
        response = self.call("DELETE", f"{API}/recipes/{intent.recipe_id}")
        if response is None or response.status_code >= 500:
            intent.delete_uncertain = True
        elif response.status_code == 204:
            intent.deleted = True
        elif response.status_code == 404:
            # Only this cook deletes its recipes: the delete was already done.
            intent.deleted = True
            with self.ledger.lock:
                self.ledger.deletes_found_gone += 1


# --- what the database must hold --------------------------------------------------------------


def verify(engine: Engine, intents: list[Intent]) -> dict[str, int]:
    nonces = [i.nonce for i in intents]
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT r.id::text, substr(r.description, 8) AS nonce, r.title, "
            " (SELECT count(*) FROM recipe_ingredients i WHERE i.recipe_id = r.id), "
            " (SELECT count(*) FROM recipe_steps s WHERE s.recipe_id = r.id), "
            " (SELECT coalesce(array_agg(t.tag ORDER BY t.tag), '{}') FROM recipe_tags t "
            "   WHERE t.recipe_id = r.id) "
            "FROM recipes r WHERE r.description LIKE 'faults:%'")).all()
        orphans = conn.execute(text(
            "SELECT (SELECT count(*) FROM recipe_ingredients c WHERE NOT EXISTS "
            "         (SELECT 1 FROM recipes r WHERE r.id = c.recipe_id))"
            "     + (SELECT count(*) FROM recipe_steps c WHERE NOT EXISTS "
            "         (SELECT 1 FROM recipes r WHERE r.id = c.recipe_id))"
            "     + (SELECT count(*) FROM recipe_tags c WHERE NOT EXISTS "
            "         (SELECT 1 FROM recipes r WHERE r.id = c.recipe_id))")).scalar_one()
        keys = conn.execute(text(
            "SELECT key FROM idempotency_keys WHERE key LIKE 'faults-%'")).scalars().all()
    found: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        found[row.nonce].append(row)
    return _tally(intents, found, set(keys), int(orphans), set(nonces))


def _tally(intents: list[Intent], found: dict[str, list[Any]], keys: set[str],
           orphans: int, nonces: set[str]) -> dict[str, int]:
    out: Counter[str] = Counter(orphans=orphans)
    out["orphans"] += sum(len(v) for n, v in found.items() if n not in nonces)
    for intent in intents:
        present = found.get(intent.nonce, [])
        out["duplicates"] += max(0, len(present) - 1)
        whole = all((r[3], r[4], list(r[5])) == (intent.ingredients, intent.steps, intent.tags)
                    for r in present)
        out["partial"] += not whole
        if intent.recipe_id is None:
            out["unresolved"] += 1
            out["unacknowledged but stored"] += bool(present)
            continue
        out["acknowledged"] += 1
        if intent.key not in keys and present:
            out["key missing"] += 1
        if intent.deleted:
            out["deletes undone"] += bool(present)
        elif not present and not intent.delete_uncertain:
            out["lost"] += 1
            print(f"LOST: recipe {intent.recipe_id} (key {intent.key})")
        elif present and not intent.title_uncertain and present[0][2] != intent.title:
            out["edits lost"] += 1
    return dict(out)
