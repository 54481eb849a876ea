// The one error shape of the API (RFC 9457 problem details), as the app should read it.
import type { components } from "./generated/api.js";

export type Problem = components["schemas"]["ProblemDetail"];

/** True for a body in the API's problem shape (every 4xx/5xx the API itself sends). */
export function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  const body = value as Record<string, unknown>;
  return (
    typeof body.type === "string" &&
    typeof body.title === "string" &&
    typeof body.status === "number" &&
    typeof body.detail === "string"
  );
}

/** The stable machine-readable part of `type` ("urn:homechef:problem:not-found" → "not-found"). */
export function problemCode(problem: Problem): string {
  const prefix = "urn:homechef:problem:";
  return problem.type.startsWith(prefix) ? problem.type.slice(prefix.length) : problem.type;
}

/** Seconds from a Retry-After header (429, 503, and 409 for an idempotent write in flight). */
export function retryAfterSeconds(response: Response): number | null {
  const value = response.headers.get("Retry-After");
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

/** An error a call could not recover from, carrying the problem body when there was one. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | undefined;
  readonly requestId: string | null;
  readonly retryAfter: number | null;

  constructor(response: Response, body: unknown, message?: string) {
    const problem = isProblem(body) ? body : undefined;
    super(message ?? problem?.detail ?? `HTTP ${response.status}`);
    this.name = "ApiError";
    this.status = response.status;
    this.problem = problem;
    // Quote this id in a bug report: it is the key to the server's log line.
    this.requestId = response.headers.get("X-Request-ID") ?? problem?.request_id ?? null;
    this.retryAfter = retryAfterSeconds(response);
  }
}
