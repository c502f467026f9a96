/** What the benchmark measures: something listening that a load generator can be pointed at. */
import type { CertFiles } from "./pki.ts";

export interface Target {
  /** Stable key used in results: `direct`, `lite-source`, `lite-binary`, `nginx`. */
  key: string;
  /** Shown in the table. */
  label: string;
  host: string;
  port: number;
  /** The process whose memory is reported, when the bench started one for this target. */
  pid: number | undefined;
  /** Spawn to first answered request, when the bench started the target. */
  startupMs: number | undefined;
  /** lite-apiserver's admin listener (`/metrics`), when the target has one. */
  adminUrl?: string;
  stop(): Promise<void>;
}

/** Everything a proxy in front of an upstream needs: the same inputs for lite-apiserver and nginx. */
export interface ProxySetup {
  /** `https://127.0.0.1:PORT` */
  upstreamUrl: string;
  upstreamCaFile: string;
  /** Verifies the callers' client certs. */
  clientCaFile: string;
  /** The proxy's own serving cert. */
  front: CertFiles;
  /** Client certs presented upstream, chosen by the caller's CN. */
  identities: (CertFiles & { cn: string })[];
  /** A scratch folder for configs, logs and caches; the caller removes it. */
  dir: string;
}
