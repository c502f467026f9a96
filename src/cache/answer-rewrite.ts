/**
 * Answers changed on their way to the caller, after the cache has seen them as the cloud sent
 * them: the cache keeps the cloud's truth, the caller gets what this node should show it.
 */
import type { CacheRequest } from "./request-cache.ts";

export interface AnswerRewrite<Note> {
  /**
   * Looks at a request before the cache plans it, and may change the headers sent upstream.
   * Undefined: this request's answer passes untouched.
   */
  prepare(request: CacheRequest): Note | undefined;
  /** The answer the caller gets, relayed from the cloud (`upstream`) or given offline. */
  apply(note: Note, response: Response, source: "upstream" | "offline"): Response;
}
