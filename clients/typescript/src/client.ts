// The typed API client: openapi-fetch over the generated paths, with the bearer token from
// the TokenManager and one retry on 401.
import createClient from "openapi-fetch";

import type { paths } from "./generated/api.js";
import type { FetchLike, TokenManager } from "./tokens.js";

export type HomeChefClient = ReturnType<typeof createClient<paths>>;

export interface ClientOptions {
  /** The API's origin (the paths already start with /api/v1). */
  baseUrl: string;
  tokens: TokenManager;
  fetch?: FetchLike;
  /** Told each time a 401 was answered by renewing the token and sending again. */
  onRetryAfter401?: (request: Request) => void;
}

export function createHomeChefClient(options: ClientOptions): HomeChefClient {
  const send: FetchLike = options.fetch ?? ((request) => globalThis.fetch(request));
  const { tokens } = options;

  async function authorizedFetch(request: Request): Promise<Response> {
    // Cloned before sending: a body can be read once, and the retry must send it again.
    const again = request.clone();
    const token = await tokens.accessToken();
    const first = await send(withBearer(request, token));
    if (first.status !== 401) return first;
    // Retry exactly once. A 401 is decided before the route runs, so resending a write
    // (with its Idempotency-Key, for a create) cannot apply it twice.
    await first.body?.cancel();
    const renewed = await tokens.renewAfterRejection(token);
    options.onRetryAfter401?.(again);
    return send(withBearer(again, renewed));
  }

  return createClient<paths>({ baseUrl: options.baseUrl, fetch: authorizedFetch });
}

function withBearer(request: Request, token: string): Request {
  request.headers.set("Authorization", `Bearer ${token}`);
  return request;
}

/** One key per user action (per create intent): keep it with the queued write and send
 * the same key on every retry of that write, never with a different body. */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}
