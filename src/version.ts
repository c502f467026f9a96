import pkg from "../package.json" with { type: "json" };

// `npm run build` replaces these with the package version and the git commit (bun build --define).
declare const LITE_APISERVER_BUILD_VERSION: string | undefined;
declare const LITE_APISERVER_BUILD_COMMIT: string | undefined;

export const VERSION: string =
  typeof LITE_APISERVER_BUILD_VERSION === "string" ? LITE_APISERVER_BUILD_VERSION : pkg.version;
export const COMMIT: string =
  typeof LITE_APISERVER_BUILD_COMMIT === "string" ? LITE_APISERVER_BUILD_COMMIT : "source";

/** `lite-apiserver 0.1.0 (commit abc1234, bun 1.4.4)` */
export function versionLine(): string {
  return `lite-apiserver ${VERSION} (commit ${COMMIT}, bun ${Bun.version})`;
}
