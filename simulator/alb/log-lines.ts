/**
 * ALB access-log and connection-log entries, field by field in AWS's order (ELB user guide,
 * "Access log entries" and "Connection log entries"). Fields are space-separated; those AWS
 * quotes are quoted.
 */

/** An ISO 8601 time with microseconds, as AWS writes it (we know milliseconds: the rest is 000). */
export function awsTime(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "000Z");
}

function quoted(s: string | undefined): string {
  return `"${s === undefined || s === "" ? "-" : s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? "-1" : (ms / 1000).toFixed(3);
}

export interface AccessLogEntry {
  /** `https`, or `wss` for a WebSocket connection (logged when it closes). */
  readonly type: "https" | "wss";
  /** When the response was sent (for WebSockets: when the connection closed). */
  readonly time: number;
  readonly elb: string;
  readonly client: string;
  /** `ip:port` of the target, or undefined when no target was involved. */
  readonly target?: string;
  /** undefined: not dispatched to a target (-1 in the log). */
  readonly requestProcessingMs?: number;
  readonly targetProcessingMs?: number;
  readonly responseProcessingMs?: number;
  readonly elbStatus: number;
  readonly targetStatus?: number;
  readonly receivedBytes: number;
  readonly sentBytes: number;
  /** `GET https://host:443/path HTTP/1.1` */
  readonly request: string;
  readonly userAgent?: string;
  readonly sslCipher: string;
  readonly sslProtocol: string;
  readonly targetGroupArn?: string;
  readonly traceId: string;
  readonly domainName?: string;
  readonly chosenCertArn: string;
  /** Rule priority, 0 for the default action, `-` when no rule was evaluated. */
  readonly matchedRulePriority: number | "-";
  readonly requestCreationTime: number;
  readonly actionsExecuted: string;
  readonly errorReason?: string;
  /** Desync mitigation: Acceptable, Ambiguous or Severe (undefined for a compliant request: `-`). */
  readonly classification?: string;
  readonly classificationReason?: string;
  readonly connTraceId: string;
  /** A rule's host-header-rewrite result (`-` when none applied). */
  readonly transformedHost?: string;
  /** A rule's url-rewrite result (`-` when none applied). */
  readonly transformedUri?: string;
}

/** The 33 fields of an access log entry (AWS adds new fields at the end). */
export function accessLogLine(e: AccessLogEntry): string {
  return [
    e.type,
    awsTime(e.time),
    e.elb,
    e.client,
    e.target ?? "-",
    seconds(e.requestProcessingMs),
    seconds(e.targetProcessingMs),
    seconds(e.responseProcessingMs),
    String(e.elbStatus),
    e.targetStatus === undefined ? "-" : String(e.targetStatus),
    String(e.receivedBytes),
    String(e.sentBytes),
    quoted(e.request),
    quoted(e.userAgent),
    e.sslCipher,
    e.sslProtocol,
    e.targetGroupArn ?? "-",
    quoted(e.traceId),
    quoted(e.domainName),
    quoted(e.chosenCertArn),
    String(e.matchedRulePriority),
    awsTime(e.requestCreationTime),
    quoted(e.actionsExecuted),
    quoted("-"), // redirect_url
    quoted(e.errorReason),
    quoted(e.target),
    quoted(e.targetStatus === undefined ? "-" : String(e.targetStatus)),
    quoted(e.classification), // "Desync mitigation mode" classification; - for a compliant request
    quoted(e.classificationReason),
    e.connTraceId,
    quoted(e.transformedHost),
    quoted(e.transformedUri),
    quoted("-"), // request_transform_status
  ].join(" ");
}

export interface ConnectionLogEntry {
  readonly time: number;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly listenerPort: number;
  readonly tlsProtocol?: string;
  readonly tlsCipher?: string;
  /** undefined when the handshake did not succeed. */
  readonly handshakeMs?: number;
  readonly leafSubject: string;
  readonly leafValidity: string;
  readonly leafSerial: string;
  /** `Success` or `Failed:<code>` */
  readonly verifyStatus: string;
  readonly connTraceId: string;
  /** The key exchange group (`x25519`, `secp256r1`, ...), or `-`. */
  readonly tlsKeyExchange: string;
  readonly elb: string;
  readonly nodeIp: string;
}

/** The 15 fields of a connection log entry. */
export function connectionLogLine(e: ConnectionLogEntry): string {
  return [
    awsTime(e.time),
    e.clientIp,
    String(e.clientPort),
    String(e.listenerPort),
    e.tlsProtocol ?? "-",
    e.tlsCipher ?? "-",
    e.handshakeMs === undefined ? "-" : (e.handshakeMs / 1000).toFixed(3),
    e.leafSubject === "-" ? "-" : quoted(e.leafSubject),
    e.leafValidity,
    e.leafSerial,
    e.verifyStatus,
    e.connTraceId,
    // tls_keyexchange: the group read from the server's hello (TLS 1.3) or key exchange (TLS 1.2), see handshake-watcher.ts.
    e.tlsKeyExchange,
    e.elb,
    e.nodeIp,
  ].join(" ");
}

/** Splits a log line into fields, honouring quotes (for tests and readers). */
export function splitLogLine(line: string): string[] {
  const fields: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) fields.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]);
  return fields;
}
