/**
 * The CDKTF app entry: cdktf.json runs the compiled dist/main.js. Set UMS_EDGE_CONFIG to your
 * config file; without it the example config (all five stacks) is used.
 */
import { runCdktfApp } from "./stacks/cdktf-app";
import { labPkiCertificates } from "./simulator/pki/lab-pki";
import { isUserError } from "./core/errors";
import { formatNotice } from "./stacks/config/load-config";

// A config naming a lab PKI gets one created on first use, as `ums-edge synth` does.
runCdktfApp(process.env, { labPki: labPkiCertificates })
  .then((result) => {
    for (const notice of result.notices) process.stderr.write(`${formatNotice(notice)}\n`);
  })
  .catch((e) => {
    process.stderr.write(`${isUserError(e) ? e.message : (e as Error).stack}\n`);
    process.exit(isUserError(e) ? e.exitCode : 1);
  });
