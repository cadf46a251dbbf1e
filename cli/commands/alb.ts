import * as path from "node:path";
import type { Command } from "commander";
import { runAction } from "../run-action";
import { untilSignal } from "../signals";
import { AlbEmulator, formatEvent, parseHostPort, validateAlbEmulatorOptions } from "../../simulator/alb";
import type { AlbEmulatorOptions } from "../../simulator/alb";
import { readStack } from "../../simulator/terraform/read-stack";
import { UserError } from "../../core/errors";
import { s3TrustStoreLoaderFromFlags, S3TrustStoreFlags } from "../../simulator/alb/s3-trust-store";

interface AlbFlags extends S3TrustStoreFlags {
  stack: string;
  target: string[];
  port: string[];
  logs?: string;
  host: string;
  workers: string;
  healthCheckScale: string;
  accountId?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `--port 8443=18443` → { 8443: 18443 } */
export function parsePortMappings(values: readonly string[]): Record<number, number> {
  const ports: Record<number, number> = {};
  for (const v of values) {
    const m = /^(\d{1,5})=(\d{1,5})$/.exec(v.trim());
    if (!m) throw new UserError(`--port '${v}': expected LISTENER=LOCAL\n  fix: e.g. --port 8443=18443 (the stack's listener port = the local port; 0 picks a free one)`);
    ports[Number(m[1])] = Number(m[2]);
  }
  return ports;
}

function number(flag: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UserError(`${flag}: '${text}' is not a positive ${integer ? "integer" : "number"}`);
  return n;
}

export function registerAlb(program: Command): void {
  program
    .command("alb")
    .description("run the ALB emulator of one synthesized stack in front of an HTTPS target (a mock UMS or a real one)")
    .requiredOption("--stack <dir>", "stack directory written by 'ums-edge synth' (holds cdk.tf.json)")
    .requiredOption("--target <host:port>", "where the registered target is (repeat for several)", collect, [])
    .option("--port <listener=local>", "local port of a listener, e.g. 8443=18443 (repeatable; default: the listener's own port)", collect, [])
    .option("--logs <dir>", "write access and connection logs under <dir>/<prefix>/AWSLogs/... as S3 holds them")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--workers <n>", "processes serving the listeners (node:cluster)", "1")
    .option("--health-check-scale <x>", "multiply health check interval and timeout (e.g. 0.1)", "1")
    .option("--account-id <id>", "AWS account ID in log paths and ARNs")
    .option("--trust-store-s3 <s3-url>", "read the verify trust store's CA bundle through the S3 API, as the ALB does: s3://BUCKET/KEY[?versionId=V]")
    .option("--revocation-s3 <s3-url>", "a CRL of the trust store in S3 (repeatable; with --trust-store-s3)", collect, [])
    .option("--s3-endpoint <url>", "S3 endpoint for --trust-store-s3, e.g. LocalStack's http://localhost:4566 (credentials from AWS_* env)")
    .action(
      runAction(async (flags: AlbFlags) => {
        for (const t of flags.target) parseHostPort(t, "--target");
        const options: AlbEmulatorOptions = {
          stackDir: path.resolve(flags.stack),
          target: flags.target,
          ports: parsePortMappings(flags.port),
          host: flags.host,
          logsDir: flags.logs,
          workers: number("--workers", flags.workers, true),
          healthCheckScale: number("--health-check-scale", flags.healthCheckScale, false),
          accountId: flags.accountId,
          trustStoreLoader: s3TrustStoreLoaderFromFlags(flags),
          onEvent: (e) => process.stderr.write(`${formatEvent(e)}\n`),
        };
        validateAlbEmulatorOptions(options, readStack(flags.stack), { target: "--target", ports: "--port" });
        const stopping = untilSignal();
        const alb = await new AlbEmulator(options).start();
        process.stdout.write(`${JSON.stringify(alb.readyInfo())}\n`);
        await stopping;
        await alb.stop();
      }),
    );
}
