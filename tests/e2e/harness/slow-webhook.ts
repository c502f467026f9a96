/**
 * A validating admission webhook that takes its time, on HTTPS 127.0.0.1, registered with the
 * cluster by a ValidatingWebhookConfiguration for ConfigMap creates in one namespace: what a slow
 * policy engine looks like to a request that goes through lite-apiserver.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { makeCa, makeCert } from "../../helpers/pki.ts";
import { kubectl } from "./kubectl.ts";
import type { Cluster } from "./cluster.ts";

export interface SlowWebhook {
  /** AdmissionReviews answered so far. */
  readonly served: number;
  /** AdmissionReviews being held right now. */
  readonly inFlight: number;
  stop(): void;
}

/** Marks the namespace (which must exist) whose ConfigMap creates the webhook slows down. */
const NAMESPACE_LABEL = "lite-e2e-slow-webhook";

interface AdmissionReview {
  request?: { uid?: string };
}

/**
 * `namespace` must exist already.
 *
 * @example
 * const webhook = await startSlowWebhook(cluster, { delayMs: 4000, namespace: "slow-admission" });
 * webhook.stop();
 */
export async function startSlowWebhook(cluster: Cluster, options: { delayMs: number; namespace: string }): Promise<SlowWebhook> {
  const dir = join(cluster.dir, "slow-webhook");
  mkdirSync(dir, { recursive: true });
  const ca = makeCa(dir, "webhook-ca");
  const cert = makeCert(ca, dir, { cn: "slow-webhook", kind: "server", sans: ["IP:127.0.0.1"] });
  const state = { served: 0, inFlight: 0 };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: cert.certPem, key: cert.keyPem },
    async fetch(request) {
      state.inFlight++;
      try {
        const review = (await request.json()) as AdmissionReview;
        await Bun.sleep(options.delayMs);
        state.served++;
        return Response.json({
          apiVersion: "admission.k8s.io/v1",
          kind: "AdmissionReview",
          response: { uid: review.request?.uid ?? "", allowed: true },
        });
      } finally {
        state.inFlight--;
      }
    },
  });
  const configuration = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: "lite-e2e-slow-webhook" },
    webhooks: [{
      name: "slow.lite-e2e.dev",
      clientConfig: { url: `https://127.0.0.1:${server.port}/validate`, caBundle: Buffer.from(ca.certPem).toString("base64") },
      rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"], scope: "Namespaced" }],
      // 1.20 does not label namespaces with their name yet: the namespace gets a label of its own.
      namespaceSelector: { matchLabels: { [NAMESPACE_LABEL]: "on" } },
      objectSelector: {},
      failurePolicy: "Fail",
      sideEffects: "None",
      admissionReviewVersions: ["v1"],
      timeoutSeconds: 30,
    }],
  };
  const labelled = await kubectl(cluster.kubeconfigs.admin, ["label", "namespace", options.namespace, `${NAMESPACE_LABEL}=on`, "--overwrite"]);
  const applied = labelled.code === 0
    ? await kubectl(cluster.kubeconfigs.admin, ["apply", "-f", "-"], { stdin: JSON.stringify(configuration) })
    : labelled;
  if (applied.code !== 0) {
    server.stop(true);
    throw new Error(`registering the webhook failed: ${applied.stderr}`);
  }
  return {
    get served() {
      return state.served;
    },
    get inFlight() {
      return state.inFlight;
    },
    stop: () => server.stop(true),
  };
}
