import * as fs from "node:fs";
import { certificatesFromPem } from "../../core/pem";
import { parseCrls, normaliseSerial } from "../../core/crl-reader";
import { Problem } from "../../core/errors";

/*
 * Why the proxy does not use nginx's `ssl_crl`: nginx turns on OpenSSL's CRL_CHECK_ALL with it, so
 * every CA of the chain, the root included, needs a CRL in that file, or every certificate — good
 * ones too — fails with "unable to get certificate CRL". The UMS device CA chain comes with the
 * device CA's CRL only. So the CRL is read here, checked (signed by a CA of the chain, not expired),
 * and its revoked serials become an nginx `map` that refuses those device certificates.
 */

export type RevokedSerials = { readonly ok: true; readonly serials: readonly string[] } | { readonly ok: false; readonly problems: Problem[] };

/**
 * The revoked device-certificate serials of `crlFile`, in nginx's `$ssl_client_serial` form
 * (upper-case hex, two digits a byte). Each CRL must be signed by a CA of `clientCaChainFile`.
 */
export function readRevokedSerials(crlFile: string, clientCaChainFile: string, now = new Date()): RevokedSerials {
  const problem = (text: string, fix: string): RevokedSerials => ({ ok: false, problems: [{ field: "crl", problem: text, fix }] });
  let crls;
  try {
    crls = parseCrls(fs.readFileSync(crlFile, "utf8"));
  } catch (e) {
    return problem(`'${crlFile}' is not a PEM CRL: ${(e as Error).message}`, "give the CRL of the UMS device CA in PEM form");
  }
  const cas = certificatesFromPem(fs.readFileSync(clientCaChainFile, "utf8"));
  const serials = new Set<string>();
  for (const crl of crls) {
    if (!cas.some((ca) => crl.isSignedBy(ca))) {
      return problem(`a CRL in '${crlFile}' is not signed by any CA of clientCaChain`, "give the CRL that the UMS device CA (of clientCaChain) issued");
    }
    if (crl.nextUpdate && crl.nextUpdate < now) {
      return problem(`a CRL in '${crlFile}' expired on ${crl.nextUpdate.toISOString()} (nextUpdate)`, "export a current CRL from the device CA");
    }
    for (const s of crl.revokedSerials) serials.add(normaliseSerial(s));
  }
  return { ok: true, serials: [...serials].sort() };
}
