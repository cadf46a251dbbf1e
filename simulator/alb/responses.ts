import { STATUS_CODES } from "node:http";

/**
 * Answers the load balancer itself gives: fixed responses of listener rules and AWS's error pages
 * (400, 405, 408, 463, 501, 502, 503, 504, 505: "Troubleshoot your Application Load Balancers").
 * Each carries an explanation header saying which rule or condition produced it,
 * so a user sees why without reading logs (the body stays exactly what AWS sends).
 */

/** Response header with the emulator's explanation (not sent by a real ALB). */
export const EXPLAIN_HEADER = "X-Alb-Emulator-Reason";

/** Titles of the ALB's own error pages (nginx-style wording, as ALBs answer). */
const TITLES: Readonly<Record<number, string>> = { 463: "", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out" };

/** Status codes AWS defines that Node does not name. */
const REASONS: Readonly<Record<number, string>> = { 460: "", 463: "" };

/** The body an ALB sends with its own 4xx/5xx errors. */
export function awsErrorPage(status: number): string {
  const title = `${status} ${TITLES[status] ?? STATUS_CODES[status] ?? ""}`.trim();
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
}

/** Header values must be one line of visible ASCII. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 1000);
}

export interface LbAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly explanation: string;
}

/** The statuses the load balancer answers with itself. */
export type LbErrorStatus = 400 | 405 | 408 | 463 | 500 | 501 | 502 | 503 | 504 | 505;

export function errorAnswer(status: LbErrorStatus, explanation: string): LbAnswer {
  return { status, contentType: "text/html", body: awsErrorPage(status), explanation };
}

export interface AnswerFraming {
  /** The connection closes after the answer. */
  readonly close: boolean;
  /** HTTP/1.0 client keeping the connection: say so. */
  readonly keepAlive10: boolean;
  /** A HEAD request: the head only. */
  readonly headOnly: boolean;
}

/** An answer as it goes on the wire, head and body in one buffer (one write). */
export function answerBytes(a: LbAnswer, f: AnswerFraming): Buffer {
  const body = Buffer.from(a.body);
  const head =
    `HTTP/1.1 ${a.status} ${REASONS[a.status] ?? STATUS_CODES[a.status] ?? ""}\r\nServer: awselb/2.0\r\nDate: ${new Date().toUTCString()}\r\nContent-Type: ${a.contentType}\r\n` +
    `Content-Length: ${body.length}\r\n${EXPLAIN_HEADER}: ${headerSafe(a.explanation)}\r\n${f.close ? "Connection: close\r\n" : f.keepAlive10 ? "Connection: keep-alive\r\n" : ""}\r\n`;
  return f.headOnly ? Buffer.from(head, "latin1") : Buffer.concat([Buffer.from(head, "latin1"), body]);
}
