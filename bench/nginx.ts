/**
 * nginx (Debian nginx-light) configured as the best general-purpose equivalent of lite-apiserver:
 * TLS termination asking for client certs (`ssl_verify_client optional`), `map $ssl_client_s_dn`
 * choosing the client cert presented upstream, one keep-alive upstream pool per identity (so a
 * connection made with one cert never carries another caller's request), and `proxy_buffering off`
 * so watches stream. It speaks HTTP/2 to callers that offer it (ALPN), as lite-apiserver does. One process (`master_process off`), so its PID is the one measured.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { firstAnswer } from "./answer.ts";
import type { TlsIdentity } from "./http1-client.ts";
import { freePort, spawnPinned } from "./processes.ts";
import type { ProxySetup, Target } from "./target.ts";

export const NGINX = "/usr/sbin/nginx";

const regexEscape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const quoted = (text: string) => `"${text.replace(/["\\]/g, "\\$&")}"`;

/**
 * The nginx.conf for `setup`, listening on `port`.
 *
 * @example
 * writeFileSync("nginx.conf", nginxConfig(setup, 8443));
 */
export function nginxConfig(setup: ProxySetup, port: number): string {
  const upstream = new URL(setup.upstreamUrl);
  const ids = setup.identities.map((identity, i) => ({ ...identity, name: `id${i}` }));
  const map = (variable: string, pick: (id: (typeof ids)[number]) => string, fallback: string) =>
    [`  map $lite_identity ${variable} {`, `    default ${fallback};`, ...ids.map((id) => `    ${id.name} ${quoted(pick(id))};`), "  }"];
  const pool = (name: string) => [
    `  upstream ${name} {`,
    `    server ${upstream.host};`,
    "    keepalive 64;",
    "    keepalive_requests 1000000;",
    "    keepalive_timeout 120s;",
    "  }",
  ];
  const tmp = join(setup.dir, "nginx-tmp");
  return [
    "daemon off;",
    "master_process off;",
    "worker_processes 1;",
    `pid ${join(setup.dir, "nginx.pid")};`,
    `error_log ${join(setup.dir, "nginx-error.log")} warn;`,
    "events { worker_connections 4096; }",
    "http {",
    "  access_log off;",
    `  client_body_temp_path ${tmp}/body;`,
    `  proxy_temp_path ${tmp}/proxy;`,
    `  fastcgi_temp_path ${tmp}/fastcgi;`,
    `  uwsgi_temp_path ${tmp}/uwsgi;`,
    `  scgi_temp_path ${tmp}/scgi;`,
    "  keepalive_requests 1000000;",
    "  keepalive_timeout 120s;",
    "  map $ssl_client_s_dn $lite_identity {",
    '    default "";',
    ...ids.map((id) => `    ${quoted(`~(^|,)CN=${regexEscape(id.cn)}(,|$)`)} ${id.name};`),
    "  }",
    ...map("$lite_pool", (id) => `pool_${id.name}`, "pool_anonymous"),
    ...map("$lite_cert", (id) => id.certFile, '""'),
    ...map("$lite_key", (id) => id.keyFile, '""'),
    ...ids.flatMap((id) => pool(`pool_${id.name}`)),
    ...pool("pool_anonymous"),
    "  server {",
    `    listen 127.0.0.1:${port} ssl http2;`,
    `    ssl_certificate ${setup.front.certFile};`,
    `    ssl_certificate_key ${setup.front.keyFile};`,
    `    ssl_client_certificate ${setup.clientCaFile};`,
    "    ssl_verify_client optional;",
    "    ssl_verify_depth 3;",
    "    ssl_protocols TLSv1.2 TLSv1.3;",
    "    location / {",
    "      if ($ssl_client_verify ~ ^FAILED) { return 401; }",
    "      proxy_pass https://$lite_pool;",
    "      proxy_http_version 1.1;",
    '      proxy_set_header Connection "";',
    "      proxy_set_header Host $http_host;",
    "      proxy_ssl_certificate $lite_cert;",
    "      proxy_ssl_certificate_key $lite_key;",
    `      proxy_ssl_trusted_certificate ${setup.upstreamCaFile};`,
    "      proxy_ssl_verify on;",
    // Both the fake upstream's and kube-up.sh's kube-apiserver certs name localhost.
    "      proxy_ssl_name localhost;",
    "      proxy_ssl_session_reuse on;",
    "      proxy_buffering off;",
    "      proxy_request_buffering off;",
    "      proxy_read_timeout 3600s;",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
}

/**
 * Starts nginx pinned to `cpu` and waits until `readyPath` answers 200 through it.
 *
 * @example
 * const nginx = await startNginx({ setup, cpu: 0, client, readyPath: SMALL_PATH });
 */
export async function startNginx(options: { setup: ProxySetup; cpu: number; client: TlsIdentity; readyPath: string }): Promise<Target> {
  const port = await freePort();
  mkdirSync(join(options.setup.dir, "nginx-tmp"), { recursive: true });
  const configFile = join(options.setup.dir, `nginx-${port}.conf`);
  writeFileSync(configFile, nginxConfig(options.setup, port));
  const started = spawnPinned("nginx", options.cpu, [NGINX, "-p", options.setup.dir, "-c", configFile]);
  try {
    const answeredAt = await firstAnswer({
      host: "127.0.0.1", port, path: options.readyPath, identity: options.client,
      status: 200, timeoutMs: 10_000, exited: started.proc.exited,
    });
    return {
      key: "nginx",
      label: "nginx",
      host: "127.0.0.1",
      port,
      pid: started.pid,
      startupMs: answeredAt - started.spawnedAt,
      stop: () => started.stop(),
    };
  } catch (error) {
    await started.stop();
    throw new Error(`nginx: ${(error as Error).message}\n${started.stderrTail()}`);
  }
}
