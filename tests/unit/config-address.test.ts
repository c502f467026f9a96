import { expect, test } from "bun:test";
import { parseHostPort } from "../../src/config/address.ts";

test.each([
  ["127.0.0.1:51003", "127.0.0.1", 51003],
  ["0.0.0.0:443", "0.0.0.0", 443],
  ["localhost:8080", "localhost", 8080],
  ["edge-1.example.com:6443", "edge-1.example.com", 6443],
  ["[::1]:51003", "::1", 51003],
  ["[::]:51003", "::", 51003],
  ["[fd00::10:1]:7000", "fd00::10:1", 7000],
  ["[::ffff:127.0.0.1]:7000", "::ffff:127.0.0.1", 7000],
  ["127.0.0.1:0", "127.0.0.1", 0],
  ["127.0.0.1:65535", "127.0.0.1", 65535],
])("%p splits into host %p and port %d", (text, host, port) => {
  expect(parseHostPort(text)).toEqual({ host, port });
});

test.each([
  "",
  "127.0.0.1",
  "127.0.0.1:",
  ":51003",
  "127.0.0.1:65536",
  "127.0.0.1:123456",
  "127.0.0.1:-1",
  "127.0.0.1:http",
  "::1:51003",
  "[::1]",
  "[::1]51003",
  "[not-ipv6]:1",
  "host name:1",
  "https://127.0.0.1:6443",
])("%p is not a host:port", (text) => {
  expect(parseHostPort(text)).toBeUndefined();
});
