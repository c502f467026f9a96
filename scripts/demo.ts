/**
 * `npm run demo`: the main job end to end on this machine.
 *
 *   npm run demo               a real edge node (kubelet, containerd, pods, kube-proxy) through
 *                              lite-apiserver: the cloud cut, the node power-cut and booted while
 *                              cut off, its pods back from the cache, the cloud back (needs root)
 *   npm run demo -- --quick    kubectl only: online, the cloud cut, answers from the cache, back
 */
const quick = process.argv.slice(2).includes("--quick");
await import(quick ? "./demo-quick.ts" : "./demo-node.ts");
export {};
