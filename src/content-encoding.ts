/**
 * Content encodings on both sides of the proxy: the cache plan asks the cloud for gzip on
 * cacheable requests whatever the caller asked (kube-apiserver 1.20 gzips answers over 128 KB when
 * asked), and the proxy decodes the answer for a caller that did not ask, so each caller gets the
 * encoding it asked for.
 */

/**
 * Whether an Accept-Encoding header takes gzip (RFC 9110 §12.5.3: `gzip`, `x-gzip` or `*`, not
 * with `q=0`; an explicit gzip entry wins over `*`).
 *
 * @example
 * acceptsGzip("gzip, deflate"); // true
 * acceptsGzip("identity"); // false
 * acceptsGzip("*, gzip;q=0"); // false
 */
export function acceptsGzip(header: string | null): boolean {
  if (header === null) return false;
  let wildcard = false;
  for (const entry of header.split(",")) {
    const [coding = "", ...params] = entry.split(";").map((part) => part.trim().toLowerCase());
    const q = params.find((param) => param.startsWith("q="));
    const accepted = q === undefined || Number(q.slice(2)) > 0;
    if (coding === "gzip" || coding === "x-gzip") return accepted;
    if (coding === "*") wildcard = accepted;
  }
  return wildcard;
}

/**
 * The answer decoded for a caller that did not ask for gzip. A body that is not valid gzip ends
 * the caller's stream with an error; it never throws here.
 *
 * @example
 * const answer = response.headers.get("content-encoding") === "gzip" ? gunzipped(response) : response;
 */
export function gunzipped(response: Response): Response {
  if (response.headers.get("content-encoding") !== "gzip" || response.body === null) return response;
  const headers = new Headers(response.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  return new Response(response.body.pipeThrough(new DecompressionStream("gzip")), {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}
