import { describe, expect, test } from "bun:test";
import { cacheKey, partitionOfKey, responseForm, upstreamAccept, watchListKey, type ResponseForm } from "../../src/cache/keys.ts";
import { parseRequestInfo } from "../../src/cache/request-info.ts";

const NODE = "cn:system:node:edge-1";
const KUBECTL_TABLE =
  "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
const KUBECTL_DISCOVERY =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
const KUBELET = "application/vnd.kubernetes.protobuf,application/json";

function keyOf(target: string, identity = NODE, form: ResponseForm = "json"): string {
  const url = new URL(target, "https://127.0.0.1:51003");
  return cacheKey(identity, parseRequestInfo("GET", url), url, form);
}

function watchKeyOf(target: string, identity = NODE, form: ResponseForm = "json"): string {
  const url = new URL(target, "https://127.0.0.1:51003");
  return watchListKey(identity, parseRequestInfo("GET", url), url, form);
}

describe("cacheKey", () => {
  test("separates identities", () => {
    const path = "/api/v1/namespaces/default/configmaps/c1";
    const keys = new Set([keyOf(path, NODE), keyOf(path, "cn:system:node:edge-2"), keyOf(path, "anonymous"), keyOf(path, `token:${"a".repeat(64)}`)]);
    expect(keys.size).toBe(4);
  });

  test("an identity holding separator-like characters cannot collide with another path", () => {
    expect(keyOf("/api/v1/nodes", 'cn:a","json","/x')).not.toBe(keyOf("/x", "cn:a"));
  });

  test("keeps selectors and drops version, paging and stream parameters", () => {
    const plain = keyOf("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb");
    expect(
      keyOf(
        "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&resourceVersion=0&resourceVersionMatch=NotOlderThan&limit=500&continue=abc&timeout=32s&timeoutSeconds=300",
      ),
    ).toBe(plain);
    expect(keyOf("/api/v1/namespaces/default/pods?labelSelector=app%3Ddb")).not.toBe(plain);
    expect(keyOf("/api/v1/namespaces/default/pods")).not.toBe(plain);
    expect(keyOf("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dedge-1")).not.toBe(plain);
  });

  test("the order of query parameters does not matter", () => {
    expect(keyOf("/api/v1/pods?labelSelector=a%3Db&fieldSelector=spec.nodeName%3Dn")).toBe(
      keyOf("/api/v1/pods?fieldSelector=spec.nodeName%3Dn&labelSelector=a%3Db"),
    );
  });

  test("keeps parameters that change the answer", () => {
    expect(keyOf("/api/v1/pods?includeObject=Object")).not.toBe(keyOf("/api/v1/pods"));
    expect(keyOf("/openapi/v3/apis/apps/v1?hash=A")).not.toBe(keyOf("/openapi/v3/apis/apps/v1?hash=B"));
  });

  test("a Table, partial metadata, protobuf and plain JSON are distinct entries", () => {
    const path = "/api/v1/namespaces/default/configmaps";
    const forms: ResponseForm[] = ["json", "table", "partial-metadata", "protobuf", "protobuf-or-json"];
    expect(new Set(forms.map((form) => keyOf(path, NODE, form))).size).toBe(forms.length);
  });
});

describe("watchListKey", () => {
  const list = "/api/v1/namespaces/x/configmaps?labelSelector=app%3Dweb";

  test("a ?watch=true watch updates the LIST with the same selectors", () => {
    expect(watchKeyOf("/api/v1/namespaces/x/configmaps?watch=true&labelSelector=app%3Dweb&resourceVersion=42&allowWatchBookmarks=true&timeoutSeconds=300")).toBe(keyOf(list));
    expect(watchKeyOf("/api/v1/namespaces/x/configmaps?watch=1&labelSelector=app%3Dweb&sendInitialEvents=true&resourceVersionMatch=NotOlderThan")).toBe(keyOf(list));
  });

  test("a legacy /watch/ path maps to the list path", () => {
    expect(watchKeyOf("/api/v1/watch/namespaces/x/configmaps?labelSelector=app%3Dweb")).toBe(keyOf(list));
    expect(watchKeyOf("/apis/apps/v1/watch/namespaces/x/deployments")).toBe(keyOf("/apis/apps/v1/namespaces/x/deployments"));
    expect(watchKeyOf("/api/v1/watch/nodes")).toBe(keyOf("/api/v1/nodes"));
  });

  test("other selectors, identities or forms do not match", () => {
    expect(watchKeyOf("/api/v1/namespaces/x/configmaps?watch=true")).not.toBe(keyOf(list));
    expect(watchKeyOf("/api/v1/namespaces/x/configmaps?watch=true&labelSelector=app%3Dweb", "anonymous")).not.toBe(keyOf(list));
    expect(watchKeyOf("/api/v1/namespaces/x/configmaps?watch=true&labelSelector=app%3Dweb", NODE, "table")).not.toBe(keyOf(list));
  });

  test("only the legacy verb segment is removed, not a namespace or name spelled watch", () => {
    expect(watchKeyOf("/api/v1/namespaces/watch/configmaps?watch=true")).toBe(keyOf("/api/v1/namespaces/watch/configmaps"));
    expect(watchKeyOf("/api/v1/watch/namespaces/watch/configmaps")).toBe(keyOf("/api/v1/namespaces/watch/configmaps"));
  });
});

describe("responseForm", () => {
  test.each<[string | null, ResponseForm]>([
    [null, "json"],
    ["", "json"],
    ["application/json", "json"],
    ["*/*", "json"],
    ["application/json, */*", "json"],
    [KUBECTL_TABLE, "table"],
    ["application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json", "partial-metadata"],
    ["application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json", "partial-metadata"],
    ["application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1", "partial-metadata"],
    [KUBECTL_DISCOVERY, "discovery-v2"],
    ["application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json", "discovery-v2beta1"],
    [KUBELET, "protobuf-or-json"],
    ["application/vnd.kubernetes.protobuf, */*", "protobuf-or-json"],
    ["application/json, application/vnd.kubernetes.protobuf", "json"],
    ["application/vnd.kubernetes.protobuf, application/json;as=Table;v=v1;g=meta.k8s.io", "other"],
    ["application/vnd.kubernetes.protobuf", "protobuf"],
    ["application/vnd.kubernetes.protobuf;stream=watch", "protobuf"],
    ["application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json", "other"],
    ["application/yaml", "other"],
    ["application/yaml, application/json", "other"],
    ["application/cbor", "other"],
    ["application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io", "other"],
  ])("%p → %s", (accept, form) => {
    expect(responseForm(accept)).toBe(form);
  });
});

describe("upstreamAccept", () => {
  test("a protobuf-first caller is asked protobuf upstream", () => {
    expect(upstreamAccept(KUBELET)).toBe(KUBELET);
    expect(upstreamAccept("application/vnd.kubernetes.protobuf, */*")).toBe("application/vnd.kubernetes.protobuf, */*");
  });

  test("drops protobuf alternatives of the forms cached as JSON only", () => {
    expect(upstreamAccept("application/json, application/vnd.kubernetes.protobuf")).toBe("application/json");
    expect(
      upstreamAccept(
        "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
      ),
    ).toBe("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json");
  });

  test("keeps the answer's form as it was asked for", () => {
    for (const accept of [KUBELET, "application/vnd.kubernetes.protobuf,application/json;as=Table;v=v1;g=meta.k8s.io,application/json"]) {
      expect(responseForm(upstreamAccept(accept))).toBe(responseForm(accept));
    }
  });

  test("leaves JSON-only, protobuf-only and unmodelled Accept headers unchanged", () => {
    expect(upstreamAccept(null)).toBeNull();
    expect(upstreamAccept(KUBECTL_TABLE)).toBe(KUBECTL_TABLE);
    expect(upstreamAccept(KUBECTL_DISCOVERY)).toBe(KUBECTL_DISCOVERY);
    expect(upstreamAccept("application/vnd.kubernetes.protobuf")).toBe("application/vnd.kubernetes.protobuf");
    expect(upstreamAccept("application/vnd.kubernetes.protobuf, application/yaml, application/json")).toBe(
      "application/vnd.kubernetes.protobuf, application/yaml, application/json",
    );
  });
});

describe("partitionOfKey", () => {
  test("is the identity that the key of a GET, a LIST or a watched LIST was made for", () => {
    const token = `token:${"b".repeat(64)}`;
    expect(partitionOfKey(keyOf("/api/v1/namespaces/x/configmaps/c1"))).toBe(NODE);
    expect(partitionOfKey(keyOf("/apis/apps/v1/deployments?labelSelector=a%3Db", token))).toBe(token);
    expect(partitionOfKey(watchKeyOf("/api/v1/watch/pods", "anonymous"))).toBe("anonymous");
    expect(partitionOfKey(keyOf("/x", 'cn:a","json","/x'))).toBe('cn:a","json","/x');
  });

  test("a key not made by cacheKey is in the empty partition", () => {
    expect(partitionOfKey("plain")).toBe("");
    expect(partitionOfKey("[1]")).toBe("");
  });
});
