import * as fs from "node:fs";
import * as path from "node:path";
import { CreateBucketCommand, ListObjectsV2Command, PutBucketVersioningCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { S3ObjectLocation } from "../../alb/s3-trust-store";
import { UserError } from "../../../core/errors";
import { randomSuffix } from "./networks";
import { openStack } from "../../terraform/read-stack";

/**
 * The S3 part of `terraform apply` for one synthesized stack, against any S3 API (LocalStack's in
 * the container runtime): its buckets (names from `bucket`, or `bucket_prefix` + a suffix, as
 * Terraform picks them), their versioning, and its objects (the trust store bundle, the CRL) from
 * the stack's assets. The result is the state Terraform would hold (bucket names, object version
 * IDs), from which the trust store's bucket/key/version and the log bucket are resolved.
 */

type Resource = Record<string, unknown>;
type Resources = Record<string, Record<string, Resource>>;

export interface S3Deployment {
  /** Attributes per resource address, as in Terraform state: `aws_s3_bucket.x` → { id, bucket }, `aws_s3_object.y` → { bucket, key, version_id }. */
  readonly state: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Bucket name per aws_s3_bucket address. */
  readonly buckets: Readonly<Record<string, string>>;
}

export interface DeployStackToS3Options {
  /** Suffix of names made from `bucket_prefix`. @default random hex */
  readonly suffix?: string;
  /** Region for CreateBucket. @default the stack's provider region, else "us-east-1" */
  readonly region?: string;
}

/** The stack's resources as Terraform would apply them (simulator/terraform opens and checks the file). */
function readResources(stackDir: string): { resources: Resources; region?: string } {
  const json = openStack(stackDir).json as { resource?: Resources; provider?: { aws?: Array<{ region?: string }> } };
  return { resources: json.resource ?? {}, region: json.provider?.aws?.[0]?.region };
}

const REFERENCE = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$/;

/** A literal string, or `${type.name.attr}` looked up in the state. */
export function resolveValue(value: unknown, state: S3Deployment["state"], where: string): string {
  if (typeof value !== "string") throw new UserError(`${where}: expected a string or a reference, got ${JSON.stringify(value)}`);
  const m = REFERENCE.exec(value);
  if (!m) return value;
  const resolved = state[`${m[1]}.${m[2]}`]?.[m[3]];
  if (resolved === undefined) throw new UserError(`${where}: '${value}' refers to something the S3 deployment did not create\n  fix: deploy the stack's S3 resources first (deployStackToS3)`);
  return resolved;
}

/** Creates the stack's buckets and uploads its objects; returns the resulting state. */
export async function deployStackToS3(stackDir: string, client: S3Client, options: DeployStackToS3Options = {}): Promise<S3Deployment> {
  const { resources, region: stackRegion } = readResources(stackDir);
  const region = options.region ?? stackRegion ?? "us-east-1";
  const suffix = options.suffix ?? randomSuffix(4);
  const state: Record<string, Record<string, string>> = {};
  const buckets: Record<string, string> = {};
  for (const [name, body] of Object.entries(resources.aws_s3_bucket ?? {})) {
    const bucket = typeof body.bucket === "string" ? body.bucket : `${String(body.bucket_prefix ?? "ums-edge-")}${suffix}`.toLowerCase().slice(0, 63);
    await client.send(new CreateBucketCommand({ Bucket: bucket, ...(region === "us-east-1" ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }) }));
    buckets[`aws_s3_bucket.${name}`] = bucket;
    state[`aws_s3_bucket.${name}`] = { id: bucket, bucket, arn: `arn:aws:s3:::${bucket}` };
  }
  for (const [name, body] of Object.entries(resources.aws_s3_bucket_versioning ?? {})) {
    const status = (body.versioning_configuration as { status?: string } | undefined)?.status;
    if (status !== "Enabled") continue;
    const bucket = resolveValue(body.bucket, state, `aws_s3_bucket_versioning.${name}.bucket`);
    await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
  }
  for (const [name, body] of Object.entries(resources.aws_s3_object ?? {})) {
    const bucket = resolveValue(body.bucket, state, `aws_s3_object.${name}.bucket`);
    const key = resolveValue(body.key, state, `aws_s3_object.${name}.key`);
    if (typeof body.source !== "string") continue; // inline content is not used by our stacks
    const file = path.resolve(stackDir, body.source);
    const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.readFileSync(file), ContentType: typeof body.content_type === "string" ? body.content_type : undefined }));
    state[`aws_s3_object.${name}`] = { id: key, bucket, key, version_id: put.VersionId ?? "null", etag: (put.ETag ?? "").replace(/"/g, "") };
  }
  return { state, buckets };
}

/** Bucket, key and version of the trust store's CA bundle and of its revocations' CRLs. */
export interface TrustStoreObjects {
  readonly trustStore: string;
  readonly bundle: S3ObjectLocation;
  readonly revocations: readonly S3ObjectLocation[];
}

function location(state: S3Deployment["state"], bucket: unknown, key: unknown, version: unknown, where: string): S3ObjectLocation {
  const v = version === undefined ? undefined : resolveValue(version, state, `${where}_object_version`);
  return { bucket: resolveValue(bucket, state, `${where}_bucket`), key: resolveValue(key, state, `${where}_key`), versionId: v && v !== "null" ? v : undefined };
}

/** Reads the stack's aws_lb_trust_store (and its revocations) with the deployment's values. */
export function trustStoreObjects(stackDir: string, deployment: S3Deployment): TrustStoreObjects {
  const { resources } = readResources(stackDir);
  const stores = Object.entries(resources.aws_lb_trust_store ?? {});
  if (stores.length !== 1) throw new UserError(`${stackDir}: expected one aws_lb_trust_store, found ${stores.length}\n  fix: use an mTLS verify stack (ums-alb-verify, icg-alb-verify)`);
  const [name, ts] = stores[0];
  const address = `aws_lb_trust_store.${name}`;
  const bundle = location(deployment.state, ts.ca_certificates_bundle_s3_bucket, ts.ca_certificates_bundle_s3_key, ts.ca_certificates_bundle_s3_object_version, `${address}.ca_certificates_bundle_s3`);
  const revocations = Object.entries(resources.aws_lb_trust_store_revocation ?? {})
    .filter(([, r]) => r.trust_store_arn === `\${${address}.arn}`)
    .map(([n, r]) => location(deployment.state, r.revocations_s3_bucket, r.revocations_s3_key, r.revocations_s3_object_version, `aws_lb_trust_store_revocation.${n}.revocations_s3`));
  return { trustStore: address, bundle, revocations };
}

/** The bucket the load balancer's access and connection logs go to (`aws_lb.access_logs.bucket`). */
export function logBucket(stackDir: string, deployment: S3Deployment): string {
  const { resources } = readResources(stackDir);
  const lb = Object.entries(resources.aws_lb ?? {})[0];
  const ref = (lb?.[1].access_logs as { bucket?: unknown } | undefined)?.bucket ?? (lb?.[1].connection_logs as { bucket?: unknown } | undefined)?.bucket;
  if (!lb || ref === undefined) throw new UserError(`${stackDir}: the stack's aws_lb writes no logs to a bucket`);
  return resolveValue(ref, deployment.state, `aws_lb.${lb[0]}.access_logs.bucket`);
}

/** Uploads a log tree as the ALB writes it (`<prefix>/AWSLogs/...`) to the log bucket; returns the keys. */
export async function uploadLogTree(client: S3Client, dir: string, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.includes(`${path.sep}AWSLogs${path.sep}`)) keys.push(path.relative(dir, p).split(path.sep).join("/"));
    }
  };
  walk(dir);
  for (const key of keys) await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.readFileSync(path.join(dir, key)) }));
  return keys;
}

/** Keys in a bucket under a prefix. */
export async function listKeys(client: S3Client, bucket: string, prefix = ""): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((c) => c.Key!).filter(Boolean);
}
