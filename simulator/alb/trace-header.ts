import { newTraceId, selfTraceSegment } from "./aws-ids";

/**
 * The X-Amzn-Trace-Id a target receives. AWS, ELB user guide, "Request tracing for your
 * Application Load Balancer": without the header the load balancer generates one with a `Root`
 * field; with a `Root` field it inserts a `Self` field; with a `Self` field it updates that field's
 * value; fields an application added are preserved; "If the HTTP headers are greater than 7 KB, the
 * load balancer rewrites the X-Amzn-Trace-Id header with a Root field".
 *
 * A header without a `Root` field is undocumented: a `Root` is added in front and the other fields
 * are kept (assumption `alb-trace-without-root`).
 */

/** AWS: headers over 7 KB get a fresh Root. */
export const TRACE_REWRITE_HEAD_BYTES = 7 * 1024;

export function forwardedTraceId(clientValues: readonly string[], nowMs: number, headBytes: number): string {
  if (clientValues.length === 0 || headBytes > TRACE_REWRITE_HEAD_BYTES) return newTraceId(nowMs);
  const fields = clientValues
    .join(";")
    .split(";")
    .map((f) => f.trim())
    .filter((f) => f.length > 0);
  const self = selfTraceSegment(nowMs);
  const hasSelf = fields.some((f) => /^Self=/i.test(f));
  const hasRoot = fields.some((f) => /^Root=/i.test(f));
  const kept = hasSelf ? fields.map((f) => (/^Self=/i.test(f) ? self : f)) : [self, ...fields];
  return hasRoot ? kept.join(";") : [newTraceId(nowMs), ...kept.filter((f) => f !== self || hasSelf)].join(";");
}
