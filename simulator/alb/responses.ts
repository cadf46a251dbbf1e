import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { STATUS_CODES } from "node:http";

/**
 * Answers the load balancer itself gives: fixed responses of listener rules and AWS's error pages
 * (502, 503, 504). Each carries an explanation header saying which rule or condition produced it,
 * so a user sees why without reading logs (the body stays exactly what AWS sends).
 */

/** Response header with the emulator's explanation (not sent by a real ALB). */
export const EXPLAIN_HEADER = "X-Alb-Emulator-Reason";

/** Titles of the ALB's own error pages (nginx-style wording, as ALBs answer). */
const TITLES: Readonly<Record<number, string>> = { 503: "Service Temporarily Unavailable", 504: "Gateway Time-out" };

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

export function errorAnswer(status: 502 | 503 | 504 | 400 | 500, explanation: string): LbAnswer {
  return { status, contentType: "text/html", body: awsErrorPage(status), explanation };
}

/** Sends an answer on an HTTP response; returns the bytes sent (approximate header size included). */
export function sendAnswer(res: ServerResponse, a: LbAnswer): number {
  const body = Buffer.from(a.body);
  const headers = ["Server", "awselb/2.0", "Content-Type", a.contentType, "Content-Length", String(body.length), EXPLAIN_HEADER, headerSafe(a.explanation)];
  if (!res.headersSent) res.writeHead(a.status, headers);
  res.end(body);
  return body.length + headers.join(": ").length + 32;
}

/** The same answer written raw on a socket (an upgrade request the load balancer answers itself). */
export function sendRawAnswer(socket: Duplex, a: LbAnswer): number {
  const body = Buffer.from(a.body);
  const head =
    `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? ""}\r\nServer: awselb/2.0\r\nContent-Type: ${a.contentType}\r\n` +
    `Content-Length: ${body.length}\r\n${EXPLAIN_HEADER}: ${headerSafe(a.explanation)}\r\nConnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head), body]));
  return head.length + body.length;
}
