import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { UserError } from "../../core/errors";
import type { StackModel } from "../terraform/stack-model";

/**
 * The trust store read through the S3 API, as the real ALB reads it: the CA bundle (and the CRLs of
 * its revocations) from the bucket, key and object version the trust store names, instead of the
 * stack's asset files. Plugged into the emulator through its `trustStoreLoader` option; the
 * container runtime points it at LocalStack's S3.
 */

/** An S3 object as a trust store names it (`ca_certificates_bundle_s3_bucket`/`_key`/`_object_version`). */
export interface S3ObjectLocation {
  readonly bucket: string;
  readonly key: string;
  /** The object version; unset: the latest. */
  readonly versionId?: string;
}

export interface S3TrustStoreOptions {
  /** The CA certificates bundle (PEM). */
  readonly bundle: S3ObjectLocation;
  /** The CRLs (PEM) of the trust store's revocations. @default none */
  readonly revocations?: readonly S3ObjectLocation[];
  /** S3 endpoint, e.g. LocalStack's `http://localstack:4566` (path-style addressing is used then). @default AWS's endpoint of the region */
  readonly endpoint?: string;
  /** AWS region of the bucket. @default the stack's region, else env AWS_REGION, else "us-east-1" */
  readonly region?: string;
  /** Directory the objects are written to (the emulator reads files). @default a temporary directory, removed when the process exits */
  readonly dir?: string;
  /** Per request: connect and answer within this. @default 10000 */
  readonly timeoutMs?: number;
  /** A client to use instead of building one (tests). @default built from endpoint and region; credentials from the environment */
  readonly client?: S3Client;
}

/** `s3://bucket/key` or `s3://bucket/key?versionId=V`. */
export function parseS3Url(text: string, label: string): S3ObjectLocation {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/([^?]+)(?:\?versionId=([^&]+))?$/.exec(text.trim());
  if (!m) throw new UserError(`${label}: '${text}' is not an S3 object URL\n  fix: give s3://BUCKET/KEY, or s3://BUCKET/KEY?versionId=VERSION for one version`);
  return { bucket: m[1], key: decodeURIComponent(m[2]), versionId: m[3] === undefined ? undefined : decodeURIComponent(m[3]) };
}

export function formatS3Url(loc: S3ObjectLocation): string {
  return `s3://${loc.bucket}/${loc.key}${loc.versionId ? `?versionId=${encodeURIComponent(loc.versionId)}` : ""}`;
}

export function s3Client(endpoint: string | undefined, region: string, timeoutMs = 10_000): S3Client {
  return new S3Client({
    region,
    endpoint,
    forcePathStyle: endpoint !== undefined,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
  });
}

/** Reads one object; every failure is a UserError naming the object, the endpoint and the fix. */
export async function fetchS3Object(client: S3Client, loc: S3ObjectLocation, endpoint?: string): Promise<Buffer> {
  const where = `${formatS3Url(loc)}${endpoint ? ` at ${endpoint}` : ""}`;
  try {
    const answer = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key, VersionId: loc.versionId }));
    return Buffer.from(await answer.Body!.transformToByteArray());
  } catch (e) {
    const err = e as Error & { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    const name = err.name ?? "";
    if (["NoSuchBucket", "NoSuchKey", "NoSuchVersion", "NotFound"].includes(name) || err.$metadata?.httpStatusCode === 404) {
      throw new UserError(`the trust store object ${where} does not exist (${name || "404"})\n  fix: upload it first (terraform apply, or deployStackToS3 for LocalStack), and give the bucket, key and version the stack's aws_s3_object got`);
    }
    if (name === "CredentialsProviderError") {
      throw new UserError(`no AWS credentials to read ${where}\n  fix: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (LocalStack accepts any, e.g. test/test)`);
    }
    if (name === "AccessDenied" || err.$metadata?.httpStatusCode === 403) {
      throw new UserError(`access to ${where} was denied\n  fix: give the credentials s3:GetObject and s3:GetObjectVersion on the trust store bucket`);
    }
    const network = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|TimeoutError|socket hang up/i.test(`${name} ${err.code ?? ""} ${err.message}`);
    if (network) {
      throw new UserError(`cannot reach S3${endpoint ? ` at ${endpoint}` : ""} to read ${formatS3Url(loc)} (${err.message})\n  fix: start LocalStack (or the S3 service) and give its address as the S3 endpoint, e.g. --s3-endpoint http://localhost:4566`);
    }
    throw new UserError(`reading ${where} failed: ${name ? `${name}: ` : ""}${err.message}`);
  }
}

/**
 * A `trustStoreLoader` for the ALB emulator: fetches the bundle and CRLs from S3 into files and
 * returns the stack model with every verify listener's trust store pointing at them.
 */
export function s3TrustStoreLoader(options: S3TrustStoreOptions): (stack: StackModel) => Promise<StackModel> {
  return async (stack) => {
    const verify = stack.listeners.filter((l) => l.mutualAuthentication.mode === "verify");
    if (verify.length === 0) {
      throw new UserError(`${stack.file}: the stack has no mTLS verify listener, so it has no trust store to read from S3\n  fix: leave out the S3 trust store options for ${stack.name}`);
    }
    const endpoint = options.endpoint;
    const client = options.client ?? s3Client(endpoint, options.region ?? stack.region ?? process.env.AWS_REGION ?? "us-east-1", options.timeoutMs);
    const dir = options.dir ?? temporaryDir();
    const save = async (loc: S3ObjectLocation, name: string) => {
      const file = path.join(dir, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, await fetchS3Object(client, loc, endpoint));
      return file;
    };
    const caBundleFile = await save(options.bundle, path.join(options.bundle.bucket, options.bundle.key));
    const revocationFiles: string[] = [];
    for (const [i, loc] of (options.revocations ?? []).entries()) revocationFiles.push(await save(loc, path.join(loc.bucket, `${loc.key}.${i}`)));
    return {
      ...stack,
      listeners: stack.listeners.map((l) =>
        l.mutualAuthentication.mode === "verify" && l.mutualAuthentication.trustStore
          ? { ...l, mutualAuthentication: { ...l.mutualAuthentication, trustStore: { ...l.mutualAuthentication.trustStore, caBundleFile, revocationFiles } } }
          : l,
      ),
    };
  };
}

/** The emulator's command-line flags for an S3 trust store (`ums-edge alb --trust-store-s3 ...`). */
export interface S3TrustStoreFlags {
  trustStoreS3?: string;
  revocationS3?: string[];
  s3Endpoint?: string;
}

/** The loader the flags ask for, or undefined without `--trust-store-s3`. */
export function s3TrustStoreLoaderFromFlags(flags: S3TrustStoreFlags): ((stack: StackModel) => Promise<StackModel>) | undefined {
  if (!flags.trustStoreS3) {
    if ((flags.revocationS3?.length ?? 0) > 0 || flags.s3Endpoint) throw new UserError("--revocation-s3 and --s3-endpoint need --trust-store-s3\n  fix: give the CA bundle's s3://BUCKET/KEY?versionId=V with --trust-store-s3");
    return undefined;
  }
  if (flags.s3Endpoint !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(flags.s3Endpoint)) {
    throw new UserError(`--s3-endpoint: '${flags.s3Endpoint}' is not an http(s)://host:port URL\n  fix: e.g. --s3-endpoint http://localhost:4566 (LocalStack)`);
  }
  return s3TrustStoreLoader({
    bundle: parseS3Url(flags.trustStoreS3, "--trust-store-s3"),
    revocations: (flags.revocationS3 ?? []).map((u) => parseS3Url(u, "--revocation-s3")),
    endpoint: flags.s3Endpoint,
  });
}

function temporaryDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-s3-trust-store-"));
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
