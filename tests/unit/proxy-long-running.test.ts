import { describe, expect, test } from "bun:test";
import { longRunningKind } from "../../src/proxy/long-running.ts";

const at = (method: string, path: string) => longRunningKind(method, new URL(`https://h${path}`));

describe("longRunningKind", () => {
  test.each([
    ["GET", "/api/v1/pods?watch=true"],
    ["GET", "/api/v1/watch/namespaces/x/configmaps"],
    ["GET", "/apis/example.com/v1/namespaces/x/widgets?watch=1"],
  ])("%s %s is a watch", (method, path) => {
    expect(at(method, path)).toBe("watch");
  });

  test.each([
    ["GET", "/api/v1/namespaces/x/services/web:80/proxy/metrics"],
    ["GET", "/api/v1/proxy/namespaces/x/pods/p"],
    ["POST", "/api/v1/namespaces/x/pods/p/exec?command=sh"],
    ["POST", "/api/v1/namespaces/x/pods/p/attach"],
    ["POST", "/api/v1/namespaces/x/pods/p/portforward"],
    ["GET", "/api/v1/namespaces/x/pods/p/log?follow=true"],
  ])("%s %s is a long-running stream", (method, path) => {
    expect(at(method, path)).toBe("stream");
  });

  test.each([
    ["GET", "/api/v1/pods"],
    ["GET", "/api/v1/pods?watch=false"],
    ["POST", "/api/v1/namespaces/x/configmaps"],
    ["GET", "/api/v1/namespaces/x/pods/p/log"],
    ["GET", "/api/v1/namespaces/x/pods/p/log?follow=0"],
    ["GET", "/api/v1/namespaces/x/pods/p/status"],
    ["GET", "/version"],
    ["GET", "/openapi/v2"],
  ])("%s %s is not long-running", (method, path) => {
    expect(at(method, path)).toBeUndefined();
  });
});
