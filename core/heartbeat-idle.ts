/**
 * One rule, read by `synth` (the config loader) and `lint` (a synthesized stack): a device WebSocket
 * that is quiet for longer than the load balancer's idle timeout is closed by the load balancer.
 * AWS, ELB user guide, "Application Load Balancers" > "Load balancer attributes" > "Connection idle
 * timeout": the load balancer closes a connection when no data has been sent or received for the
 * idle timeout, WebSocket connections included. A device that heartbeats less often than that is
 * cut and reconnects about once per heartbeat interval. IGEL does not publish the OS 12 heartbeat
 * interval (assumption `os12-heartbeat-interval`), so the user states it.
 */

export interface HeartbeatIdleFinding {
  /** What goes wrong, in a sentence. */
  readonly problem: string;
  /** What to set instead. */
  readonly fix: string;
}

export interface HeartbeatIdleWords {
  /** Who closes, e.g. "the 'ums-alb-verify' load balancer". */
  readonly subject: string;
  /** Where the heartbeat interval was stated, e.g. "devices.heartbeatSeconds". */
  readonly heartbeatSource: string;
  /** The field (or argument) that sets the idle timeout, for the fix. */
  readonly idleField: string;
  /** Set when the idle timeout was not given, e.g. "AWS's default". */
  readonly idleDefaulted?: string;
}

/**
 * A finding when `idleTimeoutSeconds` is not above `heartbeatSeconds` (equal cuts too: the heartbeat
 * races the timer); undefined when the heartbeat keeps sessions open.
 */
export function heartbeatIdleFinding(idleTimeoutSeconds: number, heartbeatSeconds: number, words: HeartbeatIdleWords): HeartbeatIdleFinding | undefined {
  if (idleTimeoutSeconds > heartbeatSeconds) return undefined;
  return {
    problem: `${words.subject} closes connections idle for ${idleTimeoutSeconds} s${words.idleDefaulted ? ` (${words.idleDefaulted})` : ""}, but ${words.heartbeatSource} is ${heartbeatSeconds}: every quiet device WebSocket is cut and re-established about every ${heartbeatSeconds} s`,
    fix: `set ${words.idleField} above ${heartbeatSeconds} (e.g. ${Math.min(heartbeatSeconds * 2, 4000)})`,
  };
}
