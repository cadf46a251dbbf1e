import type { Flow } from "./flow";

/** From the internet side, a TCP connection straight to the UMS's own listener, past the front. */
export const bypassFrontFlow: Flow = async (ctx) => {
  const { ums, runtime } = ctx.topology;
  const result = await runtime.probe("internet", ums.host, ums.port);
  if (result === undefined) {
    return {
      outcome: { kind: "n/a" },
      evidence: { detail: `the ${runtime.name} runtime does not isolate networks` },
      skipped: `not provable on the ${runtime.name} runtime (${runtime.describe()}); run as root on Linux with iproute2 and nftables to prove it`,
    };
  }
  const evidence = { detail: `TCP connect from the internet side to the UMS at ${ums.host}:${ums.port}: ${result}` };
  return result === "connected" ? { outcome: { kind: "ok" }, evidence } : { outcome: { kind: "blocked" }, evidence };
};
