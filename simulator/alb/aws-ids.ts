import { createHash, randomBytes } from "node:crypto";

/**
 * Identifiers in the shapes AWS uses in headers and logs. Resource IDs are derived from the stack's
 * resource names (stable across runs); per-request IDs are random.
 */

function hex(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

export interface AwsNaming {
  readonly region: string;
  readonly accountId: string;
}

/** `app/<name>/<16 hex>`: the load balancer's resource ID (the `elb` log field). */
export function loadBalancerId(name: string): string {
  return `app/${name}/${hex(`lb:${name}`, 16)}`;
}

export function targetGroupArn(n: AwsNaming, name: string, address: string): string {
  return `arn:aws:elasticloadbalancing:${n.region}:${n.accountId}:targetgroup/${name}/${hex(`tg:${address}`, 16)}`;
}

export function certificateArn(n: AwsNaming, address: string): string {
  const h = hex(`acm:${address}`, 32);
  return `arn:aws:acm:${n.region}:${n.accountId}:certificate/${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

// Random IDs come from a pooled buffer: one randomBytes call per 4 KiB instead of one per request.
let pool = Buffer.alloc(0);
let offset = 0;
function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  const s = pool.toString("hex", offset, offset + bytes);
  offset += bytes;
  return s;
}

/** A new X-Amzn-Trace-Id value: `Root=1-<epoch seconds, 8 hex>-<24 hex>`. */
export function newTraceId(nowMs: number): string {
  return `Root=1-${Math.floor(nowMs / 1000).toString(16).padStart(8, "0")}-${randomHex(12)}`;
}

/** The `Self=` segment the ALB adds in front of a trace header the client already sent. */
export function selfTraceSegment(nowMs: number): string {
  return `Self=1-${Math.floor(nowMs / 1000).toString(16).padStart(8, "0")}-${randomHex(12)}`;
}

const TRACE_ROOT = /Root=1-[0-9a-f]{8}-[0-9a-f]{24}/;

/**
 * The X-Amzn-Trace-Id of a request (ELB user guide, "Request tracing for your Application Load
 * Balancer"): the client's own header with a `Self=` segment in front when it carries a valid Root,
 * else a new Root. Also the access log's trace_id, for answers the load balancer gives itself too.
 */
export function traceIdFor(clientTrace: string | undefined, nowMs: number): string {
  return clientTrace !== undefined && TRACE_ROOT.test(clientTrace) ? `${selfTraceSegment(nowMs)};${clientTrace}` : newTraceId(nowMs);
}

/** `TID_<32 hex>`: the connection trace ID shared by the connection log and the access log. */
export function newConnectionTraceId(): string {
  return `TID_${randomHex(16)}`;
}

export function randomLogSuffix(): string {
  return randomHex(4);
}
