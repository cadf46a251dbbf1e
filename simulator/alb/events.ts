/**
 * What the emulator tells about itself: every refusal with the rule or check that refused and why
 * (an explaining emulator), and target health changes. The CLI prints them on stderr; a log
 * directory gets them as JSON lines in `alb-emulator.log` beside AWSLogs/.
 */
export type AlbEvent =
  | {
      readonly kind: "connection-refused";
      readonly time: string;
      readonly listenerPort: number;
      readonly client: string;
      /** Connection-log status, e.g. `Failed:ClientCertUntrusted`. */
      readonly verifyStatus: string;
      readonly reason: string;
    }
  | {
      readonly kind: "request-refused";
      readonly time: string;
      readonly listenerPort: number;
      readonly client: string;
      readonly method: string;
      readonly url: string;
      readonly status: number;
      /** The rule, listener or target group that produced the answer. */
      readonly decidedBy: string;
      readonly reason: string;
    }
  | {
      readonly kind: "target-health";
      readonly time: string;
      readonly targetGroup: string;
      readonly target: string;
      readonly from: string;
      readonly to: string;
      readonly reason: string;
    }
  | {
      /** A changed stack (re-synthesized cdk.tf.json) applied without a restart; `changes` empty: nothing a listener serves changed. */
      readonly kind: "stack-reloaded";
      readonly time: string;
      readonly changes: readonly { readonly listenerPort: number; readonly what: string; readonly from: string; readonly to: string }[];
    }
  | {
      /** A changed stack that could not be applied: the listeners keep what they served. */
      readonly kind: "stack-reload-refused";
      readonly time: string;
      readonly reason: string;
    };

/** One line of text for a human. */
export function formatEvent(e: AlbEvent): string {
  switch (e.kind) {
    case "connection-refused":
      return `alb: listener ${e.listenerPort} refused the TLS connection from ${e.client}: ${e.verifyStatus}: ${e.reason}`;
    case "request-refused":
      return `alb: listener ${e.listenerPort} answered ${e.status} to ${e.method} ${e.url} from ${e.client} (${e.decidedBy}): ${e.reason}`;
    case "target-health":
      return `alb: target ${e.target} of ${e.targetGroup} is ${e.to} (was ${e.from}): ${e.reason}`;
    case "stack-reloaded":
      return `alb: the stack changed and was applied without a restart: ${e.changes.length ? e.changes.map((c) => `listener ${c.listenerPort} ${c.what} ${c.from} → ${c.to}`).join("; ") : "nothing the listeners serve changed"}`;
    case "stack-reload-refused":
      return `alb: the stack changed but was not applied (the listeners keep what they served): ${e.reason}`;
  }
}
