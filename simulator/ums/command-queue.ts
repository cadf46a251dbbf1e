import type { CommandName } from "../protocol/messages";
import type { CommandState, ImiCommandExec } from "../protocol/imi";

/**
 * Commands per device, in order. A command stays due until the device acknowledges it, so a
 * command sent on a connection that then drops is sent again on the next one; the device
 * de-duplicates by commandId, so nothing is executed twice and nothing is lost.
 */

export type Settings = Readonly<Record<string, string | number | boolean>>;

export interface CommandRecord {
  /** IMI exec_id and the commandId on the wire. */
  readonly execId: string;
  readonly deviceId: string;
  readonly mac: string;
  readonly command: CommandName;
  readonly settings?: Settings;
  readonly state: CommandState;
  readonly message: string;
  /** How often it was sent (more than 1 only across reconnects). */
  readonly deliveries: number;
  readonly queuedAt: Date;
  readonly deliveredAt?: Date;
  readonly acknowledgedAt?: Date;
  readonly finishedAt?: Date;
  /** The UMS server that sent it last. */
  readonly deliveredBy?: string;
}

/** What an ack or result from a device did. */
export type DeviceReport = "applied" | "duplicate" | "unknown-command";

/**
 * Where the UMS keeps its commands (store/sql-store.ts). Exactly once: `claim` writes the delivery
 * (state DELIVERED, deliveries + 1, which server) in one statement *before* the frame is sent, and
 * only while the command is unacknowledged; an acknowledged or finished command is never sent
 * again, by any server, after any restart. A command claimed but whose ack never came (the server
 * died in between) is sent again on the device's next session, with the same commandId, which the
 * device de-duplicates: it is executed once, and `deliveries` shows the resend. Likewise a command
 * acknowledged whose result never came: the device answers it from memory, so no result is lost.
 */
export interface CommandQueue {
  enqueue(target: { deviceId: string; mac: string }, command: CommandName, settings?: Settings): Promise<CommandRecord>;
  /** Every command of the device not finished yet, oldest first: what to send now (a session sends each once). */
  due(deviceId: string): Promise<CommandRecord[]>;
  /** Records a delivery by `server` before it is sent; undefined when the command is no longer due. */
  claim(execId: string, server: string): Promise<CommandRecord | undefined>;
  acknowledge(deviceId: string, execId: string): Promise<DeviceReport>;
  /** A result also counts as the ack, should the ack itself have been lost. */
  complete(deviceId: string, execId: string, status: "ok" | "failed", detail?: string): Promise<DeviceReport>;
  get(execId: string): Promise<CommandRecord | undefined>;
  list(deviceId?: string): Promise<CommandRecord[]>;
  counts(): Promise<Readonly<Record<CommandState, number>>>;
}

export function toImiCommandExec(c: CommandRecord): ImiCommandExec {
  return {
    id: c.deviceId,
    exec_id: c.execId,
    mac: c.mac,
    command: c.command,
    state: c.state,
    message: c.message,
    deliveries: c.deliveries,
    queuedAt: c.queuedAt.toISOString(),
    deliveredAt: c.deliveredAt?.toISOString(),
    acknowledgedAt: c.acknowledgedAt?.toISOString(),
    finishedAt: c.finishedAt?.toISOString(),
  };
}
