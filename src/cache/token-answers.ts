import type { Logger } from "../log.ts";
import type { CacheStore } from "../storage/types.ts";
import { cacheHit } from "../wire.ts";
import { jwtExpiry, jwtIssuedAt, tokenOfAnswer } from "./token-request.ts";

/** A TokenRequest answer is a few KB; anything much larger is not one worth keeping. */
export const MAX_TOKEN_ANSWER_BYTES = 1024 * 1024;

/** The expiry and issue time (Unix seconds) of the token in an answer, when it holds one. */
function answerTimes(body: Uint8Array, contentType: string): { expiry: number | undefined; issuedAt: number | undefined } {
  const token = tokenOfAnswer(body, contentType);
  return token === undefined ? { expiry: undefined, issuedAt: undefined } : { expiry: jwtExpiry(token), issuedAt: jwtIssuedAt(token) };
}

/**
 * Keeps the cloud's answer to a TokenRequest under `key` when it holds a token that has not
 * expired; anything else (an error, a token without `exp`) is not kept.
 *
 * @example
 * storeTokenAnswer(store, key, "application/json", body, Date.now(), log);
 */
export function storeTokenAnswer(
  store: CacheStore,
  key: string,
  contentType: string,
  body: Uint8Array,
  nowMs: number,
  log: Logger,
): void {
  const { expiry } = answerTimes(body, contentType);
  if (expiry === undefined || expiry * 1000 <= nowMs) return;
  try {
    store.putObject(key, { contentType, body });
  } catch (error) {
    log.warn("cache write failed", { error: (error as Error).message });
  }
}

/**
 * The stored answer to an identical TokenRequest, `201` as the cloud gave it (its age counted
 * from the token's `iat`), while its token's own `exp` is in the future; an expired (or unreadable) one is deleted and `undefined` returned.
 *
 * @example
 * return storedTokenAnswer(store, key, Date.now()) ?? offlineRefusal(2, "...");
 */
export function storedTokenAnswer(store: CacheStore, key: string, nowMs: number): Response | undefined {
  const stored = store.getObject(key);
  if (stored === undefined) return undefined;
  const { expiry, issuedAt } = answerTimes(stored.body, stored.contentType);
  if (expiry === undefined || expiry * 1000 <= nowMs) {
    store.deleteObject(key);
    return undefined;
  }
  // The cloud confirmed this answer when it issued the token.
  const ageSeconds = issuedAt === undefined ? undefined : Math.max(0, Math.floor(nowMs / 1000 - issuedAt));
  return cacheHit(stored.body, stored.contentType, ageSeconds, 201);
}
