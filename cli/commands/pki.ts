import * as path from "node:path";
import type { Command } from "commander";
import { runAction } from "../run-action";
import { initLabPki, DEFAULT_FQDN } from "../../simulator/pki/lab-pki";
import { UserError } from "../../core/errors";

const FQDN = /^(?=.{4,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/i;

export function registerPki(program: Command): void {
  const pki = program.command("pki").description("lab PKI: device CA, web certificate, ICG certificate, good and bad device certificates");
  pki
    .command("init")
    .description("create (or reuse) a lab PKI; private keys are written 0600")
    .requiredOption("--dir <dir>", "directory of the PKI")
    .option("--fqdn <name>", "UMS cluster FQDN in the web certificate", DEFAULT_FQDN)
    .option("--force", "regenerate even if a usable PKI is there", false)
    .action(
      runAction(async (opts: { dir: string; fqdn: string; force: boolean }) => {
        if (!FQDN.test(opts.fqdn)) throw new UserError(`--fqdn: '${opts.fqdn}' is not a fully qualified domain name\n  fix: give a name like ums.example.com`);
        const result = await initLabPki(path.resolve(opts.dir), { fqdn: opts.fqdn, force: opts.force });
        process.stdout.write(`${JSON.stringify({ dir: result.dir, fqdn: result.fqdn, clientCaChain: result.clientCaChain, createdAt: result.createdAt })}\n`);
      }),
    );
}
