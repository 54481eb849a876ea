export { createHomeChefClient, newIdempotencyKey } from "./client.js";
export type { ClientOptions, HomeChefClient } from "./client.js";
export { fetchRecipeImage, uploadRecipeImage } from "./images.js";
export type { ImageResult, RecipeImage } from "./images.js";
export { ApiError, isProblem, problemCode, retryAfterSeconds } from "./problem.js";
export type { Problem } from "./problem.js";
export { SignedOutError, TokenManager } from "./tokens.js";
export type { ClerkTokenSource, FetchLike, TokenManagerOptions, TokenUser } from "./tokens.js";
export type { components, paths } from "./generated/api.js";
