import { FlagSpec, OptionsOf, toArgs } from "../common/flags";

/**
 * `ums-edge alb` (the ALB emulator of one synthesized stack) as a process: its flags, declared once
 * for the command, the launchers and the container module, and its options.
 */
export const ALB_FLAGS = {
  stack: { flag: "--stack", kind: "string", value: "<dir>", required: true, description: "stack directory written by 'ums-edge synth' (holds cdk.tf.json)" },
  targets: { flag: "--target", kind: "list", value: "<host:port>", required: true, description: "where the registered target is (repeat for several)" },
  ports: { flag: "--port", kind: "list", value: "<listener=local>", description: "local port of a listener, e.g. 8443=18443 (repeatable; default: the listener's own port)" },
  logs: { flag: "--logs", kind: "string", value: "<dir>", description: "write access and connection logs under <dir>/<prefix>/AWSLogs/... as S3 holds them" },
  host: { flag: "--host", kind: "string", value: "<address>", description: "address to listen on", defaultText: "127.0.0.1" },
  workers: { flag: "--workers", kind: "integer", value: "<n>", min: 1, max: 64, description: "processes serving the listeners (node:cluster)", defaultText: "1" },
  healthCheckScale: { flag: "--health-check-scale", kind: "number", value: "<x>", min: 0, exclusiveMin: true, description: "multiply health check interval and timeout (e.g. 0.1)", defaultText: "1" },
  idleTimeoutScale: { flag: "--idle-timeout-scale", kind: "number", value: "<x>", min: 0, exclusiveMin: true, description: "multiply the stack's idle timeout (time-scaled scenarios, e.g. 0.02)", defaultText: "1" },
  accountId: { flag: "--account-id", kind: "string", value: "<id>", description: "AWS account ID in log paths and ARNs" },
  trustStoreS3: { flag: "--trust-store-s3", kind: "string", value: "<s3-url>", description: "read the verify trust store's CA bundle through the S3 API, as the ALB does: s3://BUCKET/KEY[?versionId=V]" },
  revocationS3: { flag: "--revocation-s3", kind: "list", value: "<s3-url>", description: "a CRL of the trust store in S3 (repeatable; with --trust-store-s3)" },
  s3Endpoint: { flag: "--s3-endpoint", kind: "string", value: "<url>", description: "S3 endpoint for --trust-store-s3, e.g. LocalStack's http://localhost:4566 (credentials from AWS_* env)" },
} as const satisfies FlagSpec;

export type AlbProcessOptions = OptionsOf<typeof ALB_FLAGS>;

/** The `ums-edge alb` arguments for these options (the inverse of its flag parser). */
export function albArgs(options: AlbProcessOptions): string[] {
  return ["alb", ...toArgs(ALB_FLAGS, options)];
}
