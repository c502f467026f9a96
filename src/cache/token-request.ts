/**
 * TokenRequest (`POST .../serviceaccounts/NAME/token`): what identifies a request, so that an
 * identical one can be answered offline with the token the cloud issued for it, and when that
 * token expires. kubelet sends these bodies as protobuf (`k8s\0` envelope), other clients JSON.
 */
import { openEnvelope } from "./protobuf/envelope.ts";
import { bytesOf, LENGTH_DELIMITED, readFields, stringOf, VARINT, type ProtoField } from "./protobuf/wire.ts";

/** The fields of `authentication.k8s.io/v1` TokenRequestSpec, each in one canonical form. */
export interface TokenRequestSpec {
  /** As sent, in order: the issued token's `aud` claim keeps this order. */
  audiences: string[];
  /** `null` when not sent (the cloud defaults it). */
  expirationSeconds: number | null;
  boundObjectRef: { kind: string; apiVersion: string; name: string; uid: string } | null;
}

const PROTOBUF = "application/vnd.kubernetes.protobuf";
const SPEC_KEYS = new Set(["audiences", "expirationSeconds", "boundObjectRef"]);
const BOUND_KEYS = ["kind", "apiVersion", "name", "uid"] as const;
/** TokenRequest: 2 spec. TokenRequestSpec: 1 audiences, 3 boundObjectRef, 4 expirationSeconds. */
const SPEC_FIELD = 2;
const SPEC_FIELDS = { audiences: 1, boundObjectRef: 3, expirationSeconds: 4 } as const;
/** TokenRequest: 3 status. TokenRequestStatus: 1 token. */
const STATUS_FIELD = 3;
const TOKEN_FIELD = 1;

function mediaType(contentType: string | null): string {
  return (contentType ?? "application/json").split(";")[0]!.trim().toLowerCase();
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function specFromJson(text: string): TokenRequestSpec | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(body)) return undefined;
  const spec = body.spec ?? {};
  // A field this code does not know could change the answer: such a request is not identified.
  if (!isRecord(spec) || Object.keys(spec).some((key) => !SPEC_KEYS.has(key))) return undefined;
  const { audiences = [], expirationSeconds = null, boundObjectRef = null } = spec;
  if (audiences !== null && !(Array.isArray(audiences) && audiences.every((a) => typeof a === "string"))) return undefined;
  if (expirationSeconds !== null && !Number.isSafeInteger(expirationSeconds)) return undefined;
  let bound: TokenRequestSpec["boundObjectRef"] = null;
  if (boundObjectRef !== null) {
    if (!isRecord(boundObjectRef) || Object.keys(boundObjectRef).some((key) => !(BOUND_KEYS as readonly string[]).includes(key))) return undefined;
    const values = BOUND_KEYS.map((key) => boundObjectRef[key] ?? "");
    if (values.some((value) => typeof value !== "string")) return undefined;
    const [kind, apiVersion, name, uid] = values as string[];
    bound = { kind: kind!, apiVersion: apiVersion!, name: name!, uid: uid! };
  }
  return { audiences: (audiences as string[] | null) ?? [], expirationSeconds: expirationSeconds as number | null, boundObjectRef: bound };
}

function boundFromProtobuf(bytes: Uint8Array): TokenRequestSpec["boundObjectRef"] | undefined {
  const fields = readFields(bytes);
  if (fields === undefined || fields.some((field) => field.number > BOUND_KEYS.length || field.wireType !== LENGTH_DELIMITED)) return undefined;
  const values = BOUND_KEYS.map((_, i) => stringOf(fields, i + 1));
  if (values.some((value) => value === undefined)) return undefined;
  const [kind, apiVersion, name, uid] = values as string[];
  return { kind: kind!, apiVersion: apiVersion!, name: name!, uid: uid! };
}

function specFromProtobuf(body: Uint8Array): TokenRequestSpec | undefined {
  const envelope = openEnvelope(body);
  if (envelope?.kind !== "TokenRequest") return undefined;
  const request = readFields(envelope.raw);
  const specBytes = request && (bytesOf(request, SPEC_FIELD) ?? new Uint8Array());
  const fields = specBytes && readFields(specBytes);
  if (fields === undefined) return undefined;
  const spec: TokenRequestSpec = { audiences: [], expirationSeconds: null, boundObjectRef: null };
  for (const field of fields) {
    if (!readSpecField(spec, field)) return undefined;
  }
  return spec;
}

/** Applies one wire field to `spec`; false when it is unknown or malformed. */
function readSpecField(spec: TokenRequestSpec, field: ProtoField): boolean {
  const { number } = field;
  // int64 travels as its two's complement: a negative one is a varint past 2^53, which readFields refuses.
  if (number === SPEC_FIELDS.expirationSeconds && field.wireType === VARINT) {
    spec.expirationSeconds = field.varint;
    return true;
  }
  if (field.wireType !== LENGTH_DELIMITED) return false;
  if (number === SPEC_FIELDS.audiences) {
    const audience = stringOf([field], number);
    if (audience === undefined) return false;
    spec.audiences.push(audience);
    return true;
  }
  if (number === SPEC_FIELDS.boundObjectRef) {
    const bound = boundFromProtobuf(field.bytes);
    if (bound === undefined) return false;
    spec.boundObjectRef = bound;
    return true;
  }
  return false;
}

/**
 * The spec of a TokenRequest body (JSON or Kubernetes protobuf), or `undefined` when the body
 * cannot be read or holds a spec field this code does not know.
 *
 * @example
 * readTokenRequestSpec(new TextEncoder().encode('{"spec":{"audiences":["api"]}}'), "application/json");
 * // { audiences: ["api"], expirationSeconds: null, boundObjectRef: null }
 */
export function readTokenRequestSpec(body: Uint8Array, contentType: string | null): TokenRequestSpec | undefined {
  const type = mediaType(contentType);
  if (type === PROTOBUF) return specFromProtobuf(body);
  if (type !== "application/json") return undefined;
  return specFromJson(new TextDecoder().decode(body));
}

/**
 * One string per distinct request: equal exactly when the specs are equal.
 *
 * @example
 * canonicalSpec({ audiences: [], expirationSeconds: 3607, boundObjectRef: null }); // '[[],3607,null]'
 */
export function canonicalSpec(spec: TokenRequestSpec): string {
  const bound = spec.boundObjectRef;
  return JSON.stringify([spec.audiences, spec.expirationSeconds, bound && BOUND_KEYS.map((key) => bound[key])]);
}

/**
 * `status.token` of a TokenRequest answer (JSON or Kubernetes protobuf).
 *
 * @example
 * tokenOfAnswer(new TextEncoder().encode('{"status":{"token":"eyJ..."}}'), "application/json"); // "eyJ..."
 */
export function tokenOfAnswer(body: Uint8Array, contentType: string | null): string | undefined {
  if (mediaType(contentType) === PROTOBUF) {
    const envelope = openEnvelope(body);
    const answer = envelope?.kind === "TokenRequest" ? readFields(envelope.raw) : undefined;
    const status = answer && bytesOf(answer, STATUS_FIELD);
    const fields = status && readFields(status);
    return (fields && stringOf(fields, TOKEN_FIELD)) || undefined;
  }
  try {
    const answer = JSON.parse(new TextDecoder().decode(body)) as { status?: { token?: unknown } };
    return typeof answer?.status?.token === "string" ? answer.status.token : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `exp` claim of a JWT in Unix seconds, read and not verified (the cloud signed it; only
 * its audience can check it). `undefined` when the token is not a JWT with a numeric `exp`.
 *
 * @example
 * if ((jwtExpiry(token) ?? 0) * 1000 <= Date.now()) deleteIt();
 */
export function jwtExpiry(token: string): number | undefined {
  return numericClaim(token, "exp");
}

/**
 * The `iat` claim (when the cloud issued the token) in Unix seconds, read and not verified.
 *
 * @example
 * const ageSeconds = Date.now() / 1000 - (jwtIssuedAt(token) ?? Date.now() / 1000);
 */
export function jwtIssuedAt(token: string): number | undefined {
  return numericClaim(token, "iat");
}

function numericClaim(token: string, claim: "exp" | "iat"): number | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1]!)) return undefined;
  try {
    const value = (JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as Record<string, unknown>)?.[claim];
    return typeof value === "number" && Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
