// The token manager: one Clerk exchange per access-token lifetime, not one per call.
//
// POST /api/v1/auth/token is rate limited per client IP (RATE_LIMIT_AUTH, 10/minute by
// default), so exchanging before every call fails as soon as a screen makes a few
// requests. The manager keeps the access token, exchanges again shortly before it
// expires, lets every concurrent caller share one exchange, and exchanges once more
// when the API refuses a token it still believed in (a logout elsewhere, a revoked user).
import createClient from "openapi-fetch";

import type { components, paths } from "./generated/api.js";
import { ApiError } from "./problem.js";

export type TokenUser = components["schemas"]["TokenUser"];
export type FetchLike = (request: Request) => Promise<Response>;

/** Clerk's `session.getToken()` (or `useAuth().getToken`): a fresh Clerk session token, or
 * null when nobody is signed in. */
export type ClerkTokenSource = () => Promise<string | null>;

export interface TokenManagerOptions {
  /** The API's origin, e.g. "https://api.homechef.example" (no /api/v1). */
  baseUrl: string;
  getClerkToken: ClerkTokenSource;
  fetch?: FetchLike;
  /** Milliseconds, like Date.now (a test moves it to reach the refresh point). */
  now?: () => number;
  /** Exchange again this long before the token expires (capped at half its lifetime). */
  refreshMarginSeconds?: number;
  /** Called once per failed exchange that means "sign in again". */
  onSignedOut?: (error: SignedOutError) => void;
}

/** Clerk has no session, or the API refused the Clerk session token: sign in again. */
export class SignedOutError extends Error {
  override readonly cause: ApiError | undefined;

  constructor(message: string, cause?: ApiError) {
    super(message);
    this.name = "SignedOutError";
    this.cause = cause;
  }
}

interface HeldToken {
  token: string;
  user: TokenUser;
  /** When to exchange again, ahead of expiry. */
  refreshAt: number;
  /** When the API stops accepting it (by our clock, from expires_in: never from the JWT's
   * exp, which is in the server's clock). */
  expiresAt: number;
}

export class TokenManager {
  readonly #options: TokenManagerOptions;
  readonly #now: () => number;
  readonly #auth: ReturnType<typeof createClient<paths>>;
  #held: HeldToken | null = null;
  #inflight: Promise<HeldToken> | null = null;
  #exchanges = 0;

  constructor(options: TokenManagerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const fetch = options.fetch ?? ((request: Request) => globalThis.fetch(request));
    this.#auth = createClient<paths>({ baseUrl: options.baseUrl, fetch });
  }

  /** How many exchanges this manager has started (successful or not). */
  get exchangeCount(): number {
    return this.#exchanges;
  }

  /** The signed-in user as of the last exchange. */
  get user(): TokenUser | null {
    return this.#held?.user ?? null;
  }

  /** A token to send now: the held one while it is fresh, else a new exchange. */
  async accessToken(): Promise<string> {
    const held = this.#held;
    if (held && this.#now() < held.refreshAt) return held.token;
    try {
      return (await this.#exchangeOnce()).token;
    } catch (error) {
      // Refreshing early failed for a passing reason (429, 503, offline): the held token
      // is still good until it expires, so keep using it rather than fail the call.
      if (held && !(error instanceof SignedOutError) && this.#now() < held.expiresAt) {
        return held.token;
      }
      throw error;
    }
  }

  /**
   * The API answered 401 to a request sent with `rejected`. Returns a token issued after
   * that: a new exchange, shared by every caller that saw the same token refused.
   */
  async renewAfterRejection(rejected: string): Promise<string> {
    const held = this.#held;
    if (held && held.token !== rejected) return held.token; // another caller renewed it
    if (held) this.#held = null;
    return (await this.#exchangeOnce()).token;
  }

  /** Forget the token (sign-out in the app; call Clerk's signOut too). */
  clear(): void {
    this.#held = null;
  }

  #exchangeOnce(): Promise<HeldToken> {
    // Single flight: concurrent callers wait for the same exchange.
    this.#inflight ??= this.#exchange().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #exchange(): Promise<HeldToken> {
    const clerkToken = await this.#options.getClerkToken();
    if (!clerkToken) throw this.#signedOut(new SignedOutError("No Clerk session: sign in."));
    this.#exchanges += 1;
    const sentAt = this.#now(); // measured before sending: expiry errs on the early side
    const { data, error, response } = await this.#auth.POST("/api/v1/auth/token", {
      headers: { Authorization: `Bearer ${clerkToken}` },
    });
    if (data === undefined) {
      const failure = new ApiError(response, error);
      if (response.status === 401) {
        this.#held = null;
        throw this.#signedOut(new SignedOutError("Clerk session refused: sign in.", failure));
      }
      throw failure; // 429 (see retryAfter) or 503: passing; the caller may retry later
    }
    const lifetime = data.expires_in * 1000;
    const margin = Math.min((this.#options.refreshMarginSeconds ?? 60) * 1000, lifetime / 2);
    const held: HeldToken = {
      token: data.access_token,
      user: data.user,
      refreshAt: sentAt + lifetime - margin,
      expiresAt: sentAt + lifetime,
    };
    this.#held = held;
    return held;
  }

  #signedOut(error: SignedOutError): SignedOutError {
    this.#options.onSignedOut?.(error);
    return error;
  }
}
