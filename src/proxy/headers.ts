// RFC 9110 §7.6.1 connection-specific headers, plus the ones every proxy must not forward.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

/**
 * Copies the end-to-end headers: drops hop-by-hop ones and those that `Connection` names.
 *
 * @example
 * endToEndHeaders(new Headers({ Connection: "x-trace", "X-Trace": "1", Accept: "a" })); // only Accept
 */
export function endToEndHeaders(source: Headers): Headers {
  const named = new Set(
    (source.get("connection") ?? "").split(",").map((token) => token.trim().toLowerCase()).filter(Boolean),
  );
  const out = new Headers();
  // Iteration yields each Set-Cookie value on its own (Fetch standard), so they stay separate.
  source.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && !named.has(name)) out.append(name, value);
  });
  return out;
}
