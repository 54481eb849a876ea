// End-to-end driver: the client against a live API and a loopback Clerk, as the PWA uses it.
// Run by tests/clients/test_typescript_client.py: `node dist/driver.js` with
//   HOMECHEF_API_URL        the API origin
//   CLERK_FRONTEND_API_URL  a Clerk stand-in answering POST /v1/client/sessions/{sid}/tokens
// Prints "ok - <step>" or "not ok - <step>: <why>" per step, then one "RESULT <json>" line;
// exits 0 only if every step passed.
import {
  type ClerkTokenSource,
  type FetchLike,
  type components,
  createHomeChefClient,
  fetchRecipeImage,
  isProblem,
  newIdempotencyKey,
  problemCode,
  SignedOutError,
  TokenManager,
  uploadRecipeImage,
} from "./index.js";

type RecipeCreate = components["schemas"]["RecipeCreate"];

const API = required("HOMECHEF_API_URL");
const CLERK = required("CLERK_FRONTEND_API_URL");
// A 1x1 PNG: the smallest image the API accepts and re-encodes.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value.replace(/\/+$/, "");
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

// Every HTTP exchange with the API, to show the client stays inside the auth rate limit.
const traffic = { requests: 0, exchanges: 0, byStatus: {} as Record<string, number> };
const countingFetch: FetchLike = async (request) => {
  const isExchange = new URL(request.url).pathname === "/api/v1/auth/token";
  const response = await fetch(request);
  traffic.requests += 1;
  if (isExchange) traffic.exchanges += 1;
  traffic.byStatus[response.status] = (traffic.byStatus[response.status] ?? 0) + 1;
  return response;
};

/** What Clerk's session.getToken() does: ask Clerk's Frontend API for a fresh token. */
function clerkSession(sessionId: string): ClerkTokenSource {
  return async () => {
    const response = await fetch(`${CLERK}/v1/client/sessions/${sessionId}/tokens`, {
      method: "POST",
    });
    if (response.status === 404) return null; // signed out
    check(response.ok, `Clerk answered ${response.status}`);
    return ((await response.json()) as { jwt: string }).jwt;
  };
}

/** One signed-in app instance (a phone, a laptop), with a clock a step can move. */
function device(sessionId: string) {
  const counters = { retries: 0, signedOut: 0 };
  let skewMs = 0;
  const tokens = new TokenManager({
    baseUrl: API,
    getClerkToken: clerkSession(sessionId),
    fetch: countingFetch,
    now: () => Date.now() + skewMs,
    onSignedOut: () => {
      counters.signedOut += 1;
    },
  });
  const api = createHomeChefClient({
    baseUrl: API,
    tokens,
    fetch: countingFetch,
    onRetryAfter401: () => {
      counters.retries += 1;
    },
  });
  return { tokens, api, counters, advanceClock: (ms: number) => (skewMs += ms) };
}

const phone = device("sess_phone");
const state = { ids: [] as string[], etag: "", expiresIn: 0 };

function soup(title: string): RecipeCreate {
  return {
    title,
    servings: 4,
    prep_minutes: 10,
    cook_minutes: 30,
    tags: ["Soup"],
    ingredients: [
      { quantity: "800", unit: "g", name: "tomatoes" },
      { name: "salt", note: "to taste" },
    ],
    steps: [{ text: "Simmer the tomatoes." }, { text: "Blend and season." }],
  };
}

async function exchange(): Promise<void> {
  const token = await phone.tokens.accessToken();
  check(token.split(".").length === 3, "the access token is not a JWT");
  check(phone.tokens.user?.email === "ada@example.com", "the exchange named the wrong user");
  const again = await phone.tokens.accessToken();
  check(again === token && phone.tokens.exchangeCount === 1, "a fresh token was exchanged again");
}

async function create(): Promise<void> {
  for (const title of ["Tomato soup", "Pumpkin soup"]) {
    // One key per create intent; a retry of this same write would send the same key.
    const { data, response } = await phone.api.POST("/api/v1/recipes", {
      body: soup(title),
      headers: { "Idempotency-Key": newIdempotencyKey() },
    });
    check(response.status === 201 && data, `create answered ${response.status}`);
    check(response.headers.get("Location") === `/api/v1/recipes/${data.id}`, "no Location");
    check(response.headers.get("ETag"), "create sent no ETag");
    check(data.ingredients[0]?.quantity === "800", "quantities are decimal strings");
    state.ids.push(data.id);
  }
}

async function list(): Promise<void> {
  // Keyset pages: follow next_cursor, with the same filters, until it is null.
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const query: { limit: number; tag: string[]; cursor?: string } = { limit: 1, tag: ["soup"] };
    if (cursor) query.cursor = cursor;
    const { data, response } = await phone.api.GET("/api/v1/recipes", { params: { query } });
    check(data, `list answered ${response.status}`);
    seen.push(...data.items.map((item) => item.id));
    cursor = data.next_cursor;
  } while (cursor && seen.length < 10);
  check(seen.length === 2 && new Set(seen).size === 2, `pages held ${JSON.stringify(seen)}`);
  check(state.ids.every((id) => seen.includes(id)), "a created recipe is missing from the pages");
  const bad = await phone.api.GET("/api/v1/recipes", { params: { query: { cursor: "forged" } } });
  check(bad.response.status === 400 && isProblem(bad.error), "a forged cursor is not a 400");
  check(problemCode(bad.error) === "invalid-cursor", `cursor problem ${bad.error.type}`);
}

function recipePath(id: string) {
  return { path: { recipe_id: id } };
}

async function createIsReplayed(): Promise<string | void> {
  if (process.env.HOMECHEF_EXPECT_IDEMPOTENCY !== "1") {
    return "this server does not declare Idempotency-Key on POST /recipes";
  }
  // What an offline outbox entry holds: the key and the exact body string, sent as is on
  // every attempt (the server compares body bytes).
  const entry = { key: newIdempotencyKey(), body: JSON.stringify(soup("Lentil soup")) };
  const send = (body: string) =>
    phone.api.POST("/api/v1/recipes", {
      body: soup("typed, but the stored string is what is sent"),
      bodySerializer: () => body,
      headers: { "Idempotency-Key": entry.key },
    });
  const first = await send(entry.body);
  const again = await send(entry.body);
  check(first.data && first.response.status === 201, `create answered ${first.response.status}`);
  check(!first.response.headers.get("Idempotent-Replayed"), "the first create was a replay");
  check(again.response.headers.get("Idempotent-Replayed") === "true", "the retry was not replayed");
  check(again.data?.id === first.data.id, "the retry created a second recipe");
  const location = first.response.headers.get("Location");
  check(again.response.headers.get("Location") === location, "the replay moved Location");
  const other = await send(JSON.stringify(soup("Another soup")));
  check(other.response.status === 422 && isProblem(other.error), "a reused key was not a 422");
  check(problemCode(other.error) === "idempotency-key-reused", `422 code ${other.error.type}`);
  const gone = await phone.api.DELETE("/api/v1/recipes/{recipe_id}", {
    params: recipePath(first.data.id),
  });
  check(gone.response.status === 204, `delete answered ${gone.response.status}`);
}

async function getNotModified(): Promise<void> {
  const id = state.ids[0]!;
  const first = await phone.api.GET("/api/v1/recipes/{recipe_id}", { params: recipePath(id) });
  const etag = first.response.headers.get("ETag");
  check(first.data && etag, `get answered ${first.response.status}`);
  state.etag = etag;
  const second = await phone.api.GET("/api/v1/recipes/{recipe_id}", {
    params: { ...recipePath(id), header: { "if-none-match": etag } },
  });
  check(second.response.status === 304, `If-None-Match answered ${second.response.status}`);
}

async function patch(ifMatch: string, title: string) {
  return phone.api.PATCH("/api/v1/recipes/{recipe_id}", {
    params: { ...recipePath(state.ids[0]!), header: { "if-match": ifMatch } },
    body: { title },
  });
}

async function scaledEtagIsNotForWrites(): Promise<void> {
  const scaled = await phone.api.GET("/api/v1/recipes/{recipe_id}", {
    params: { ...recipePath(state.ids[0]!), query: { servings: 2 } },
  });
  const scaledEtag = scaled.response.headers.get("ETag");
  check(scaled.data?.ingredients[0]?.quantity === "400", "servings=2 did not scale 800 g");
  check(scaledEtag && scaledEtag !== state.etag, "a scaled GET has its own ETag");
  const refused = await patch(scaledEtag, "Scaled");
  check(refused.response.status === 412, `the scaled ETag got ${refused.response.status}`);
}

async function patchWithIfMatch(): Promise<void> {
  const { data, response } = await patch(state.etag, "Tomato soup, roasted");
  const etag = response.headers.get("ETag");
  check(data && etag, `PATCH answered ${response.status}`);
  check(data.version === 2 && etag !== state.etag, "the version and ETag did not move");
}

async function staleEtagIs412(): Promise<void> {
  const { error, response } = await patch(state.etag, "Lost update");
  check(response.status === 412, `a stale If-Match answered ${response.status}`);
  check(isProblem(error), "the 412 is not a problem body");
  check(problemCode(error) === "recipe-changed", `412 code ${error.type}`);
  check(response.headers.get("Content-Type")?.startsWith("application/problem+json"), "type");
  check(error.request_id === response.headers.get("X-Request-ID"), "request ids differ");
}

async function missingIs404(): Promise<void> {
  const missing = globalThis.crypto.randomUUID();
  const { error, response } = await phone.api.GET("/api/v1/recipes/{recipe_id}", {
    params: recipePath(missing),
  });
  check(response.status === 404 && isProblem(error), `missing answered ${response.status}`);
  check(problemCode(error) === "recipe-not-found", `404 code ${error.type}`);
}

async function images(): Promise<void> {
  const id = state.ids[1]!;
  const stored = await uploadRecipeImage(phone.api, id, new Blob([PNG], { type: "image/png" }));
  check(stored.url === `/api/v1/recipes/${id}/image`, `image url ${stored.url}`);
  const thumb = await fetchRecipeImage(phone.api, id, { thumb: true });
  check(thumb.status === 200 && thumb.blob.size > 0 && thumb.etag, "no thumbnail");
  check(thumb.blob.type.startsWith("image/"), `thumbnail type ${thumb.blob.type}`);
  const again = await fetchRecipeImage(phone.api, id, { thumb: true, etag: thumb.etag });
  check(again.status === 304, `the unchanged thumbnail answered ${again.status}`);
}

async function refreshBeforeExpiry(): Promise<void> {
  const { data } = await phone.api.GET("/api/v1/users/me");
  check(data, "users/me failed");
  const before = { exchanges: phone.tokens.exchangeCount, retries: phone.counters.retries };
  // 14 minutes and a bit later (by the app's clock): inside the refresh margin.
  phone.advanceClock(14 * 60 * 1000 + 1000);
  const after = await phone.api.GET("/api/v1/users/me");
  check(after.data, "users/me failed after the clock moved");
  check(phone.tokens.exchangeCount === before.exchanges + 1, "no exchange ahead of expiry");
  check(phone.counters.retries === before.retries, "the refresh waited for a 401");
}

async function tokenDiesMidSession(): Promise<void> {
  // The laptop signs out everywhere: the phone's token dies while the phone holds it.
  const laptop = device("sess_laptop");
  const out = await laptop.api.POST("/api/v1/auth/logout");
  check(out.response.status === 204, `logout answered ${out.response.status}`);
  const before = phone.tokens.exchangeCount;
  const id = state.ids[0]!;
  const results = await Promise.all([
    phone.api.GET("/api/v1/recipes/{recipe_id}", { params: recipePath(id) }),
    phone.api.GET("/api/v1/recipes", { params: { query: { limit: 5 } } }),
    phone.api.GET("/api/v1/users/me"),
  ]);
  const statuses = results.map((result) => result.response.status);
  check(statuses.every((status) => status === 200), `after the logout: ${statuses.join(",")}`);
  check(phone.counters.retries === 3, `${phone.counters.retries} retries, not 3`);
  check(phone.tokens.exchangeCount === before + 1, "not exactly one shared re-exchange");
}

async function signedOutStops(): Promise<void> {
  // A Clerk session that ended: the exchange is refused once and the call fails, no loop.
  const gone = device("sess_gone");
  const refusedBefore = traffic.byStatus["401"] ?? 0;
  const failure = await gone.api.GET("/api/v1/users/me").then(
    () => null,
    (error: unknown) => error,
  );
  check(failure instanceof SignedOutError, `expected SignedOutError, got ${String(failure)}`);
  check(gone.tokens.exchangeCount === 1 && gone.counters.signedOut === 1, "not one attempt");
  check((traffic.byStatus["401"] ?? 0) === refusedBefore + 1, "more than one refused call");
  // Nobody signed in to Clerk at all: no request reaches the API.
  const nobody = device("sess_unknown");
  const requests = traffic.requests;
  const none = await nobody.api.GET("/api/v1/users/me").catch((error: unknown) => error);
  check(none instanceof SignedOutError && traffic.requests === requests, "called without Clerk");
}

const STEPS: Array<[string, () => Promise<string | void>]> = [
  ["exchange", exchange],
  ["create", create],
  ["list with cursors", list],
  ["a retried create is replayed, not repeated", createIsReplayed],
  ["get with If-None-Match is 304", getNotModified],
  ["a scaled ETag is refused for writes", scaledEtagIsNotForWrites],
  ["patch with If-Match", patchWithIfMatch],
  ["stale If-Match is a 412 problem", staleEtagIs412],
  ["missing recipe is a 404 problem", missingIs404],
  ["image upload and 304", images],
  ["refresh before expiry", refreshBeforeExpiry],
  ["token dies mid-session: one re-exchange", tokenDiesMidSession],
  ["signed out: no retry loop", signedOutStops],
];

async function main(): Promise<number> {
  const passed: string[] = [];
  const skipped: string[] = [];
  for (const [name, step] of STEPS) {
    try {
      const skip = await step();
      if (skip) {
        skipped.push(name);
        console.log(`skip - ${name}: ${skip}`);
      } else {
        passed.push(name);
        console.log(`ok - ${name}`);
      }
    } catch (error) {
      console.log(`not ok - ${name}: ${error instanceof Error ? error.message : String(error)}`);
      break; // later steps build on earlier ones
    }
  }
  const result = {
    passed, skipped, steps: STEPS.length,
    phoneExchanges: phone.tokens.exchangeCount, phoneRetries: phone.counters.retries, ...traffic,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
  return passed.length + skipped.length === STEPS.length ? 0 : 1;
}

process.exitCode = await main();
