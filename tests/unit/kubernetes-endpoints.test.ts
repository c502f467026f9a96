import { describe, expect, test } from "bun:test";
import { cloudEndpoints, cloudSlice, otherEndpoints } from "../helpers/kubernetes-endpoints.ts";
import { isKubernetesEndpoints, rewriteKubernetesEndpoints, rewriteWatchEvent } from "../../src/cache/kubernetes-endpoints.ts";

const target = { ip: "169.254.2.1", port: 51003 };
const other = otherEndpoints();

describe("isKubernetesEndpoints", () => {
  test("the Endpoints named kubernetes in default, and any slice labelled with that Service", () => {
    expect(isKubernetesEndpoints("endpoints", cloudEndpoints())).toBe(true);
    expect(isKubernetesEndpoints("endpoints", { metadata: { name: "kubernetes", namespace: "kube-system" } })).toBe(false);
    expect(isKubernetesEndpoints("endpoints", other)).toBe(false);
    const renamed = { ...cloudSlice(), metadata: { ...cloudSlice().metadata, name: "kubernetes-x7k2p" } };
    expect(isKubernetesEndpoints("endpointslices", renamed)).toBe(true);
    expect(isKubernetesEndpoints("endpointslices", { metadata: { name: "kubernetes", namespace: "default" } })).toBe(false);
  });
});

describe("rewriteKubernetesEndpoints", () => {
  test("Endpoints: one address, lite-apiserver's, with the port names kept", () => {
    expect(rewriteKubernetesEndpoints("endpoints", cloudEndpoints(), target)).toEqual({
      ...cloudEndpoints(),
      subsets: [{ addresses: [{ ip: "169.254.2.1" }], ports: [{ name: "https", port: 51003, protocol: "TCP" }] }],
    });
  });

  test("Endpoints without subsets get the kubernetes Service's https port", () => {
    const empty = { ...cloudEndpoints(), subsets: undefined };
    expect(rewriteKubernetesEndpoints("endpoints", empty, target)?.subsets)
      .toEqual([{ addresses: [{ ip: "169.254.2.1" }], ports: [{ name: "https", port: 51003, protocol: "TCP" }] }]);
  });

  test("EndpointSlice: one ready endpoint; an IPv6 target makes it an IPv6 slice", () => {
    expect(rewriteKubernetesEndpoints("endpointslices", cloudSlice(), target)).toEqual({
      ...cloudSlice(),
      endpoints: [{ addresses: ["169.254.2.1"], conditions: { ready: true } }],
      ports: [{ name: "https", port: 51003, protocol: "TCP" }],
    });
    const v6 = rewriteKubernetesEndpoints("endpointslices", cloudSlice(), { ip: "fd00::2", port: 443 });
    expect(v6?.addressType).toBe("IPv6");
    expect(v6?.endpoints).toEqual([{ addresses: ["fd00::2"], conditions: { ready: true } }]);
  });

  test("in a List only the kubernetes item changes; a List without it is left alone", () => {
    const list = { kind: "EndpointsList", metadata: { resourceVersion: "9" }, items: [other, cloudEndpoints()] };
    const rewritten = rewriteKubernetesEndpoints("endpoints", list, target)!;
    expect((rewritten.items as unknown[])[0]).toBe(other);
    expect(((rewritten.items as { subsets: unknown[] }[])[1]!).subsets[0]).toEqual({ addresses: [{ ip: "169.254.2.1" }], ports: [{ name: "https", port: 51003, protocol: "TCP" }] });
    expect(rewriteKubernetesEndpoints("endpoints", { kind: "EndpointsList", items: [other] }, target)).toBeUndefined();
  });

  test("other objects and PartialObjectMetadata are not touched", () => {
    expect(rewriteKubernetesEndpoints("endpoints", other, target)).toBeUndefined();
    expect(rewriteKubernetesEndpoints("endpoints", { kind: "PartialObjectMetadata", metadata: cloudEndpoints().metadata }, target)).toBeUndefined();
  });

  test("a Table (kubectl -o wide): the row's cells and its full object are rewritten", () => {
    const table = (resource: "endpoints" | "endpointslices", columns: string[], cells: unknown[], object: unknown) => ({
      kind: "Table", apiVersion: "meta.k8s.io/v1",
      columnDefinitions: columns.map((name) => ({ name, type: "string" })),
      rows: [{ cells: ["web", "10.1.1.1:80", "1d"], object: other }, { cells, object }],
      resource,
    });
    const endpoints = rewriteKubernetesEndpoints("endpoints",
      table("endpoints", ["Name", "Endpoints", "Age"], ["kubernetes", "10.250.1.1:6443,10.250.1.2:6443", "1d"], cloudEndpoints()), target)!;
    const rows = endpoints.rows as { cells: unknown[]; object: { subsets: unknown } }[];
    expect(rows[0]!.cells).toEqual(["web", "10.1.1.1:80", "1d"]);
    expect(rows[1]!.cells).toEqual(["kubernetes", "169.254.2.1:51003", "1d"]);
    expect(rows[1]!.object.subsets).toEqual([{ addresses: [{ ip: "169.254.2.1" }], ports: [{ name: "https", port: 51003, protocol: "TCP" }] }]);

    const partial = { kind: "PartialObjectMetadata", metadata: cloudSlice().metadata };
    const slices = rewriteKubernetesEndpoints("endpointslices",
      table("endpointslices", ["Name", "AddressType", "Ports", "Endpoints", "Age"], ["kubernetes", "IPv4", "6443", "10.250.1.1", "1d"], partial),
      { ip: "fd00::2", port: 51003 })!;
    const sliceRow = (slices.rows as { cells: unknown[]; object: unknown }[])[1]!;
    expect(sliceRow.cells).toEqual(["kubernetes", "IPv6", "51003", "fd00::2", "1d"]);
    expect(sliceRow.object).toBe(partial);
  });
});

describe("rewriteWatchEvent", () => {
  test("ADDED/MODIFIED/DELETED of the endpoints are rewritten; bookmarks and other objects are not", () => {
    expect(rewriteWatchEvent("endpointslices", { type: "MODIFIED", object: cloudSlice() }, target)?.object)
      .toEqual(rewriteKubernetesEndpoints("endpointslices", cloudSlice(), target));
    expect(rewriteWatchEvent("endpoints", { type: "DELETED", object: cloudEndpoints() }, target)?.type).toBe("DELETED");
    expect(rewriteWatchEvent("endpoints", { type: "ADDED", object: other }, target)).toBeUndefined();
    expect(rewriteWatchEvent("endpoints", { type: "BOOKMARK", object: { kind: "Endpoints", metadata: { resourceVersion: "9" } } }, target)).toBeUndefined();
  });
});
