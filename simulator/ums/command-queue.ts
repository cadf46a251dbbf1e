import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
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
  state: CommandState;
  message: string;
  /** How often it was sent (more than 1 only across reconnects). */
  deliveries: number;
  readonly queuedAt: Date;
  deliveredAt?: Date;
  acknowledgedAt?: Date;
  finishedAt?: Date;
}

/** What an ack or result from a device did. */
export type DeviceReport = "applied" | "duplicate" | "unknown-command";

const FINISHED: ReadonlySet<CommandState> = new Set(["SUCCESS", "FAILED"]);

export class CommandQueue extends EventEmitter {
  private readonly byExec = new Map<string, CommandRecord>();
  private readonly perDevice = new Map<string, CommandRecord[]>();

  enqueue(target: { deviceId: string; mac: string }, command: CommandName, settings?: Settings): CommandRecord {
    const record: CommandRecord = {
      execId: randomUUID(),
      deviceId: target.deviceId,
      mac: target.mac,
      command,
      settings,
      state: "QUEUED",
      message: "queued until the device is online",
      deliveries: 0,
      queuedAt: new Date(),
    };
    this.byExec.set(record.execId, record);
    const list = this.perDevice.get(target.deviceId) ?? [];
    list.push(record);
    this.perDevice.set(target.deviceId, list);
    this.emit("change", record);
    return record;
  }

  /** Every command of the device it has not acknowledged yet, oldest first: what to send now. */
  due(deviceId: string): CommandRecord[] {
    return (this.perDevice.get(deviceId) ?? []).filter((c) => c.state === "QUEUED" || c.state === "DELIVERED");
  }

  markDelivered(record: CommandRecord): void {
    record.deliveries++;
    record.deliveredAt = new Date();
    if (record.state === "QUEUED" || record.state === "DELIVERED") {
      record.state = "DELIVERED";
      record.message = record.deliveries > 1 ? `sent again (delivery ${record.deliveries}) after a reconnect; waiting for the device's ack` : "sent; waiting for the device's ack";
    }
    this.emit("change", record);
  }

  acknowledge(deviceId: string, execId: string): DeviceReport {
    const record = this.byExec.get(execId);
    if (!record || record.deviceId !== deviceId) return "unknown-command";
    if (record.state !== "QUEUED" && record.state !== "DELIVERED") return "duplicate";
    record.state = "ACKNOWLEDGED";
    record.acknowledgedAt = new Date();
    record.message = "acknowledged by the device; waiting for its result";
    this.emit("change", record);
    return "applied";
  }

  /** A result also counts as the ack, should the ack itself have been lost. */
  complete(deviceId: string, execId: string, status: "ok" | "failed", detail?: string): DeviceReport {
    const record = this.byExec.get(execId);
    if (!record || record.deviceId !== deviceId) return "unknown-command";
    if (FINISHED.has(record.state)) return "duplicate";
    const now = new Date();
    record.acknowledgedAt ??= now;
    record.finishedAt = now;
    record.state = status === "ok" ? "SUCCESS" : "FAILED";
    record.message = detail ?? (status === "ok" ? "executed" : "the device reported a failure");
    this.emit("change", record);
    return "applied";
  }

  get(execId: string): CommandRecord | undefined {
    return this.byExec.get(execId);
  }

  list(deviceId?: string): CommandRecord[] {
    return deviceId === undefined ? [...this.byExec.values()] : [...(this.perDevice.get(deviceId) ?? [])];
  }

  get counts(): Readonly<Record<CommandState, number>> {
    const counts: Record<CommandState, number> = { QUEUED: 0, DELIVERED: 0, ACKNOWLEDGED: 0, SUCCESS: 0, FAILED: 0 };
    for (const c of this.byExec.values()) counts[c.state]++;
    return counts;
  }
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
