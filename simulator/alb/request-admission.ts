import type { DesyncMitigationMode } from "../../core/alb-defaults";
import { FORWARDED_HEADERS } from "../../core/aws-headers";
import { classifyRequest, DesyncVerdict } from "./desync-classifier";
import { desyncAction } from "./desync-mode";
import { xffAddresses } from "./forwarding";
import { headerValues } from "./http-head";
import type { RequestHead } from "./request-head";
import { errorAnswer, LbAnswer } from "./responses";

/**
 * The load balancer's own answers to a request it has read, before any listener rule: its desync
 * mitigation (desync-classifier.ts, desync-mode.ts), and the errors AWS documents in "Troubleshoot
 * your Application Load Balancers" > "The load balancer generates an HTTP error":
 * - HTTP 405: "The client used the TRACE method, which is not supported by Application Load Balancers."
 * - HTTP 463: "an X-Forwarded-For request header with too many IP addresses. The upper limit for IP addresses is 30."
 * - HTTP 501: "a Transfer-Encoding header with an unsupported value. The supported values ... are chunked and identity."
 * A request whose body length cannot be known is refused (400) even in monitor mode, which AWS
 * documents as allowing Severe requests: nothing says where such a body ends (assumption
 * `alb-monitor-unframeable`). The order of these checks is ours (assumption `alb-own-answers-order`).
 */

/** AWS: "The upper limit for IP addresses is 30." */
export const MAX_XFF_ADDRESSES = 30;

export interface Admission {
  readonly verdict: DesyncVerdict;
  /** The load balancer answers itself (the connection closes after it). */
  readonly answer?: LbAnswer;
  /** Defensive mode, Ambiguous request: routed, then the client and target connections close. */
  readonly closeAfter: boolean;
}

function describe(v: DesyncVerdict): string {
  return v.reason ? `${v.classification} (${v.reason}${v.detail ? `: ${v.detail}` : ""})` : v.classification;
}

export function admitRequest(req: RequestHead, mode: DesyncMitigationMode): Admission {
  const verdict = classifyRequest(req);
  const action = desyncAction(mode, verdict.classification);
  const no = (answer: LbAnswer): Admission => ({ verdict, answer, closeAfter: true });
  if (action === "block") return no(errorAnswer(400, `desync mitigation (${mode} mode) blocked a request classified ${describe(verdict)}`));
  if (req.framingError) return no(errorAnswer(400, `the request's body length cannot be known: ${req.framingError} (${describe(verdict)})`));
  if (req.unsupportedCoding !== undefined) return no(errorAnswer(501, `Transfer-Encoding '${req.unsupportedCoding}' is not supported (only chunked and identity are)`));
  if (req.method === "TRACE") return no(errorAnswer(405, "the TRACE method is not supported by Application Load Balancers"));
  const xff = xffAddresses(headerValues(req, FORWARDED_HEADERS.for));
  if (xff > MAX_XFF_ADDRESSES) return no(errorAnswer(463, `X-Forwarded-For holds ${xff} addresses; the limit is ${MAX_XFF_ADDRESSES}`));
  return { verdict, closeAfter: action === "allow-then-close" };
}
