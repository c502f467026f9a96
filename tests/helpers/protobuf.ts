/**
 * Kubernetes protobuf bodies for tests, written field by field the way client-go's generated
 * marshallers write them: a TokenRequest as kubelet 1.20 POSTs it, and its answer.
 */

function varint(value: number | bigint): number[] {
  let rest = BigInt(value);
  const out: number[] = [];
  do {
    const byte = Number(rest & 0x7fn);
    rest >>= 7n;
    out.push(rest > 0n ? byte | 0x80 : byte);
  } while (rest > 0n);
  return out;
}

/** A length-delimited field: tag, length, bytes. */
export function bytesField(number: number, value: Uint8Array | string): number[] {
  const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
  return [...varint((number << 3) | 2), ...varint(bytes.byteLength), ...bytes];
}

export function varintField(number: number, value: number | bigint): number[] {
  return [...varint(number << 3), ...varint(value)];
}

/** `k8s\0` + runtime.Unknown{typeMeta, raw}, as client-go's protobuf serializer frames an object. */
export function envelope(apiVersion: string, kind: string, raw: number[]): Uint8Array {
  const typeMeta = [...bytesField(1, apiVersion), ...bytesField(2, kind)];
  return Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...bytesField(1, Uint8Array.from(typeMeta)), ...bytesField(2, Uint8Array.from(raw))]);
}

export interface TokenRequestFields {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind: string; apiVersion: string; name: string; uid: string };
}

/**
 * A TokenRequest body as kubelet sends it (empty ObjectMeta, spec, empty status).
 *
 * @example
 * const body = tokenRequestProtobuf({ expirationSeconds: 3607, boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p", uid: "u" } });
 */
export function tokenRequestProtobuf(spec: TokenRequestFields): Uint8Array {
  const bound = spec.boundObjectRef;
  const specBytes = [
    ...(spec.audiences ?? []).flatMap((audience) => bytesField(1, audience)),
    ...(bound
      ? bytesField(3, Uint8Array.from([
        ...bytesField(1, bound.kind), ...bytesField(2, bound.apiVersion), ...bytesField(3, bound.name), ...bytesField(4, bound.uid),
      ]))
      : []),
    ...(spec.expirationSeconds === undefined ? [] : varintField(4, spec.expirationSeconds)),
  ];
  const objectMeta = bytesField(8, new Uint8Array()); // creationTimestamp: gogo writes the empty Time
  const raw = [...bytesField(1, Uint8Array.from(objectMeta)), ...bytesField(2, Uint8Array.from(specBytes)), ...bytesField(3, new Uint8Array())];
  return envelope("authentication.k8s.io/v1", "TokenRequest", raw);
}

/** A TokenRequest answer in protobuf holding `token`. */
export function tokenAnswerProtobuf(token: string): Uint8Array {
  const status = bytesField(1, token);
  return envelope("authentication.k8s.io/v1", "TokenRequest", [...bytesField(2, new Uint8Array()), ...bytesField(3, Uint8Array.from(status))]);
}

/**
 * An unsigned JWT-shaped token with the given claims (only its payload is ever read here).
 *
 * @example
 * const token = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 3600 });
 */
export function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", kid: "test" })}.${part(claims)}.c2lnbmF0dXJl`;
}
