import * as fs from "node:fs";
import { ROUTES } from "../../protocol/routes";
import { connectionLogMark } from "../evidence-logs";
import { wsUpgrade } from "../probes";
import { observe, target } from "./paths";
import type { Flow } from "./flow";

/** TLS 1.2 CBC-SHA ciphers (for an RSA or an ECDSA server certificate): of the TLS 1.3 policies only TLS13-1-2-Ext2, -1-1 and -1-0 offer them. */
export const CIPHERS_OUTSIDE_POLICY = "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA";

/**
 * A device with a good certificate whose TLS client offers only ciphers outside the listener's
 * security policy, on the management path: refused in the handshake where the front's policy has
 * none of them, let in where it does.
 */
export const ciphersOutsidePolicyFlow: Flow = async (ctx) => {
  const identity = { cert: fs.readFileSync(ctx.lab.pki.devices.good.chain, "utf8"), key: fs.readFileSync(ctx.lab.pki.devices.good.key, "utf8") };
  const mark = connectionLogMark(ctx.topology);
  const a = await wsUpgrade(target(ctx, ctx.topology.devices.clusterUrl, { identity, tls: { maxVersion: "TLSv1.2", ciphers: CIPHERS_OUTSIDE_POLICY } }), ROUTES.deviceSocket);
  return observe(ctx, a, `GET ${ROUTES.deviceSocket} offering only ${CIPHERS_OUTSIDE_POLICY.replaceAll(":", ", ")} (TLS 1.2)`, mark);
};
