/**
 * Port slots for e2e test files.
 *
 * Every e2e file starts its own control plane (etcd, kube-apiserver) and lite-apiserver. The files
 * share one `bun test` process and run one after another, but a cluster left behind by a file that
 * crashed must never break the next one, and none may collide with a developer's own cluster on the
 * default ports. So each file owns one slot and only uses `e2ePorts(itsSlot)`:
 *
 * | slot | file                        |
 * | ---- | --------------------------- |
 * | 0    | tests/e2e/cluster.test.ts   |
 * | 1    | tests/e2e/proxy.test.ts     |
 * | 2    | tests/e2e/offline.test.ts   |
 * | 3    | tests/e2e/certs.test.ts     |
 * | 8    | tests/e2e/incluster.test.ts |
 * | 11   | tests/e2e/credentials.test.ts |
 * | 13   | tests/e2e/protobuf.test.ts  |
 * | 15   | tests/e2e/selectors.test.ts |
 * | 16   | tests/e2e/served-resources.test.ts |
 * | 17   | tests/e2e/shared-objects.test.ts |
 * | 20   | tests/e2e/node.test.ts      |
 * | 21   | tests/e2e/node-streams.test.ts |
 * | 90   | scripts/demo.ts             |
 * | 91   | tests/fixtures/protobuf/capture.ts (not a test: writes the fixtures) |
 * | 92   | bench/real.ts (`npm run bench -- --real`) |
 * | 30   | tests/e2e/truthful-cache.test.ts |
 * | 40   | tests/e2e/flaps.test.ts and `npm run torture`'s link flaps (scripts/torture/flaps.ts) |
 * | 4+   | the next free number, one per new e2e file; add it to this table |
 *
 * Slot N is etcd 12379+10N / 12380+10N, kube-apiserver 16443+10N, lite-apiserver 15103+10N and its
 * admin listener 15104+10N; every range stays clear of the others for N < 100. A real node
 * (`nodePorts`) adds kubelet 15105+10N, its healthz 15106+10N and a pod's port 15107+10N.
 *
 * `LITE_E2E_PORT_SHIFT` (a multiple of 1000 below 10000, default 0) moves every port, so two checkouts
 * can run their e2e files on one machine at the same time.
 */

/** The loopback ports of one e2e cluster. */
export interface ClusterPorts {
  etcd: number;
  etcdPeer: number;
  kube: number;
  lite: number;
  liteAdmin: number;
}

const SLOT_STRIDE = 10;
const MAX_SLOTS = 100;

/**
 * The ports that belong to an e2e file's slot.
 *
 * @example
 * const ports = e2ePorts(3); // { etcd: 12409, etcdPeer: 12410, kube: 16473, lite: 15133, liteAdmin: 15134 }
 */
export function e2ePorts(slot: number): ClusterPorts {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) {
    throw new RangeError(`e2e port slot must be an integer in [0, ${MAX_SLOTS}), got ${slot}`);
  }
  const offset = slot * SLOT_STRIDE + portShift();
  return {
    etcd: 12379 + offset,
    etcdPeer: 12380 + offset,
    kube: 16443 + offset,
    lite: 15103 + offset,
    liteAdmin: 15104 + offset,
  };
}

function portShift(): number {
  const shift = Number(process.env.LITE_E2E_PORT_SHIFT ?? "0");
  if (!Number.isInteger(shift) || shift < 0 || shift >= 10_000 || shift % 1000 !== 0) {
    throw new RangeError(`LITE_E2E_PORT_SHIFT must be a multiple of 1000 below 10000, got ${process.env.LITE_E2E_PORT_SHIFT}`);
  }
  return shift;
}

/** The loopback ports of a real test node (./node.ts) in the same slot. */
export interface NodePorts {
  kubelet: number;
  kubeletHealthz: number;
  /** A free port for a hostNetwork pod to listen on (port-forward tests). */
  pod: number;
}

/**
 * The node ports that belong to an e2e file's slot, beside `e2ePorts(slot)`.
 *
 * @example
 * const { kubelet } = nodePorts(20); // 15305
 */
export function nodePorts(slot: number): NodePorts {
  const { lite } = e2ePorts(slot);
  return { kubelet: lite + 2, kubeletHealthz: lite + 3, pod: lite + 4 };
}
