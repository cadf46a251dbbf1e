import type { DesyncMitigationMode } from "../../core/alb-defaults";
import type { ListenerModel } from "../terraform/stack-model";
import type { ListenerRules } from "./rules";
import type { TargetGroupPool } from "./target-pool";
import type { LogFile } from "./log-files";
import type { AlbEvent } from "./events";
import type { ForwardingAttributes, ForwardingContext } from "./forwarding";
import type { TargetConnections } from "./target-connections";

/** What the request path of one listener needs, built once when the emulator starts. */
export interface ListenerContext {
  readonly model: ListenerModel;
  readonly rules: ListenerRules;
  readonly pools: ReadonlyMap<string, TargetGroupPool>;
  /** Lower-case names of the listener's mTLS headers, removed from client requests. */
  readonly mtlsHeaderNames: ReadonlySet<string>;
  /** Keep-alive connections to the targets (the target's certificate is not verified). */
  readonly targets: TargetConnections;
  /** `X-Forwarded-Proto` and `X-Forwarded-Port` lines of this listener. */
  readonly listenerLines: string;
  readonly accessLog?: LogFile;
  readonly elbId: string;
  readonly certificateArn: string;
  readonly targetGroupArns: ReadonlyMap<string, string>;
  /** A target that sends nothing for this long: 504. */
  readonly targetTimeoutMs: number;
  /** A target that does not accept the connection within this: 504 (AWS: 10 s). */
  readonly connectTimeoutMs: number;
  /** Idle client connections (and WebSockets) are closed after this (the ALB's idle timeout). */
  readonly idleTimeoutMs: number;
  /** A request head must be complete this long after its first byte (assumption alb-head-deadline). */
  readonly headTimeoutMs: number;
  /** A client connection is closed after its next response once it is this old (`client_keep_alive`). */
  readonly clientKeepAliveMs: number;
  /** `desync_mitigation_mode` of the load balancer. */
  readonly desyncMode: DesyncMitigationMode;
  /** The load balancer attributes that shape forwarded requests. */
  readonly forwarding: ForwardingAttributes;
  readonly emit: (e: AlbEvent) => void;
}

/** Per TLS connection: computed once in the handshake path, read by every request. */
export interface ConnectionInfo extends ForwardingContext {
  readonly connTraceId: string;
  readonly clientIp: string;
  /** `ip:port` */
  readonly client: string;
  readonly mtlsHeaders: readonly string[];
  readonly sslCipher: string;
  readonly sslProtocol: string;
  /** The SNI name the client sent. */
  readonly servername?: string;
  /** Access-log `domain_name`: the SNI name when it matches the listener's certificate. */
  readonly domainName?: string;
  /** Access-log `chosen_cert_arn`: the certificate's ARN, or `session-reused`. */
  readonly chosenCertArn: string;
}
