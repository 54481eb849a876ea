// Recipe images. GET /recipes/{id}/image needs the bearer token like every other route,
// so an <img src> cannot load it directly: fetch it as a Blob, keep its ETag, and show it
// with URL.createObjectURL (revoke the URL when the component unmounts).
import type { HomeChefClient } from "./client.js";
import type { components } from "./generated/api.js";
import { ApiError } from "./problem.js";

export type RecipeImage = components["schemas"]["RecipeImageRead"];

export type ImageResult =
  | { status: 200; blob: Blob; etag: string | null }
  | { status: 304; etag: string };

/** Upload (or replace) a recipe's image: JPEG, PNG or WebP, sent as multipart field "file". */
export async function uploadRecipeImage(
  api: HomeChefClient,
  recipeId: string,
  file: Blob,
  filename = "photo",
): Promise<RecipeImage> {
  const form = new FormData();
  form.append("file", file, filename);
  const { data, error, response } = await api.PUT("/api/v1/recipes/{recipe_id}/image", {
    params: { path: { recipe_id: recipeId } },
    // The schema declares the multipart body as an object with a binary "file"; the
    // FormData is that object, sent as is (fetch sets the multipart boundary).
    body: form as unknown as { file: string },
    bodySerializer: (body) => body as unknown as FormData,
  });
  if (data === undefined) throw new ApiError(response, error);
  return data;
}

/** The image (or its thumbnail); with `etag` from an earlier load, a 304 means "unchanged". */
export async function fetchRecipeImage(
  api: HomeChefClient,
  recipeId: string,
  options: { thumb?: boolean; etag?: string } = {},
): Promise<ImageResult> {
  const { data, error, response } = await api.GET("/api/v1/recipes/{recipe_id}/image", {
    params: {
      path: { recipe_id: recipeId },
      query: options.thumb ? { size: "thumb" } : {},
      header: options.etag ? { "if-none-match": options.etag } : {},
    },
    parseAs: "blob",
  });
  if (response.status === 304) return { status: 304, etag: options.etag ?? "" };
  if (data === undefined) throw new ApiError(response, error);
  return { status: 200, blob: data as Blob, etag: response.headers.get("ETag") };
}
