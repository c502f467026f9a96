/** The WAN table and its targets (issue 13): what a real client workload costs the cloud link. */
import type { TargetCheck } from "./targets.ts";
import type { WanFigures } from "./wan.ts";

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
const times = (value: number) => `${value.toFixed(2)}x`;

function result(target: string, value: number | undefined, limit: number, show: (v: number) => string): TargetCheck {
  const measured = value !== undefined && Number.isFinite(value);
  return { target, subject: "lite-source", value: measured ? show(value) : "not run", limit: `≤ ${show(limit)}`, pass: measured ? value <= limit : null };
}

/**
 * Issue 13's targets: bytes from the cloud ≤ 0.7x direct, bytes to it ≤ direct's, ≤ 1 connection
 * per identity and server, the connections metric equal to the relay's count, and protobuf LISTs
 * kept current from their watches.
 *
 * @example
 * checks.push(...wanChecks(wan));
 */
export function wanChecks(wan: WanFigures | undefined): TargetCheck[] {
  return [
    result("WAN bytes from the cloud vs direct (kube-scheduler)", wan && wan.lite.fromServer / wan.direct.fromServer, 0.7, times),
    result("WAN bytes to the cloud vs direct (kube-scheduler)", wan && wan.lite.toServer / wan.direct.toServer, 1, times),
    result("WAN connections per identity and server (kube-scheduler)", wan && wan.lite.connections / wan.identities, 1, (v) => v.toFixed(1)),
    // The metric must tell production what the relay saw.
    result("upstream_connections_opened_total off the relay's count", wan && Math.abs((wan.lite.metrics?.connectionsOpened ?? Number.NaN) - wan.lite.connections), 0, (v) => v.toFixed(0)),
    // Shown as the events missing: each changed pod must reach the cached protobuf LIST.
    result("protobuf pod changes not applied to the cached LIST", wan && Math.max(0, wan.changedPods - (wan.lite.metrics?.watchEventsApplied ?? 0)), 0, (v) => v.toFixed(0)),
  ];
}

/**
 * @example
 * markdown += wanSection(wan, wanSkipped);
 */
export function wanSection(wan: WanFigures | undefined, skipped: string | undefined): string {
  if (!wan) return `\n**WAN** (real kube-scheduler, \`--real\`): ${skipped ?? "not run"}.\n`;
  const metrics = wan.lite.metrics;
  return [
    "",
    `**WAN**, ${wan.workload}; counted by a TCP relay in front of kube-apiserver (TLS and headers included):`,
    "",
    "|  | bytes from the cloud | bytes to the cloud | TCP connections |",
    "| --- | --: | --: | --: |",
    `| direct | ${kb(wan.direct.fromServer)} | ${kb(wan.direct.toServer)} | ${wan.direct.connections} |`,
    `| through lite-apiserver | ${kb(wan.lite.fromServer)} (${times(wan.lite.fromServer / wan.direct.fromServer)}) | ${kb(wan.lite.toServer)} (${times(wan.lite.toServer / wan.direct.toServer)}) | ${wan.lite.connections} |`,
    ...(metrics
      ? ["", `lite-apiserver's own metrics for the same run: \`upstream_bytes_total\` received ${kb(metrics.received)}, sent ${kb(metrics.sent)} (body bytes only); \`upstream_connections_opened_total\` ${metrics.connectionsOpened}; watch events applied ${metrics.watchEventsApplied}.`]
      : []),
    "",
  ].join("\n");
}
