import type { DeviceEvent } from "../../simulator/device/fake-device";

/**
 * What happened to every command the soak issued, from both ends: the UMS's answer to the IMI call
 * (its exec id: the command was accepted) and what the devices saw (executed, or sent again and
 * de-duplicated by the device). A command accepted but never executed is lost; one executed twice
 * is duplicated. The device side counts, not the UMS's own records: a UMS that restarted without
 * persistence no longer knows what it lost.
 */

export interface LedgerSummary {
  /** Commands the UMS accepted (an exec id came back). */
  readonly issued: number;
  /** Accepted commands some device executed. */
  readonly executed: number;
  /** Accepted, never executed (by the time of the summary). */
  readonly lost: number;
  /** Executed more than once (the device's de-duplication failed, or two devices got it). */
  readonly duplicated: number;
  /** Deliveries of a command a device had already executed: the UMS sent it again, the device answered as before without executing it. */
  readonly redelivered: number;
  /** IMI calls refused or failed (the UMS or the front restarting): never accepted, so neither lost nor counted. */
  readonly refusedCalls: number;
  /** A few of the lost exec ids, for the report. */
  readonly lostSample: readonly string[];
  /** When each lost command was accepted (seconds into the run, as the caller counts), to set beside the restarts. */
  readonly lostAcceptedAt: readonly number[];
  readonly duplicatedSample: readonly string[];
}

export class CommandLedger {
  private readonly accepted = new Map<string, number>();
  private readonly executions = new Map<string, number>();
  private redeliveries = 0;
  private refused = 0;

  /** The UMS accepted a command: its exec id, and when (seconds into the run). */
  accept(execId: string, at: number): void {
    this.accepted.set(execId, at);
  }

  refusedCall(): void {
    this.refused++;
  }

  /** Every device event of the fleet. */
  onDeviceEvent(e: DeviceEvent): void {
    if (e.type === "command") this.executions.set(e.commandId, (this.executions.get(e.commandId) ?? 0) + 1);
    else if (e.type === "duplicate-command") this.redeliveries++;
  }

  /** Accepted commands not executed yet. */
  get outstanding(): number {
    let n = 0;
    for (const id of this.accepted.keys()) if (!this.executions.has(id)) n++;
    return n;
  }

  summary(): LedgerSummary {
    const lost = [...this.accepted.keys()].filter((id) => !this.executions.has(id));
    const duplicated = [...this.executions].filter(([, n]) => n > 1).map(([id]) => id);
    return {
      issued: this.accepted.size,
      executed: this.accepted.size - lost.length,
      lost: lost.length,
      duplicated: duplicated.length,
      redelivered: this.redeliveries,
      refusedCalls: this.refused,
      lostSample: lost.slice(0, 5),
      lostAcceptedAt: lost.map((id) => this.accepted.get(id)!).slice(0, 2000),
      duplicatedSample: duplicated.slice(0, 5),
    };
  }
}
