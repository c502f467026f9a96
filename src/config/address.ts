export interface HostPort {
  host: string;
  port: number;
}

/**
 * Splits `host:port` (`[::1]:51003` for IPv6) into its parts, or returns undefined.
 *
 * @example
 * parseHostPort("127.0.0.1:51003"); // { host: "127.0.0.1", port: 51003 }
 */
export function parseHostPort(text: string): HostPort | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]\s]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  // Port 0 asks the OS for a free port (tests use it).
  if (port > 65535) return undefined;
  return { host: (match[1] ?? match[2])!, port };
}
