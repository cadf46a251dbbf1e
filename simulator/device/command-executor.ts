import type { CommandMessage } from "../protocol/messages";

/**
 * What a device does with a command, exactly once per commandId: the UMS sends a command again
 * when its ack was lost in a reconnect, and the device must answer as before, not act twice.
 * Remembers the latest 1000 commands (a device's small persistent store).
 */

export interface CommandOutcome {
  readonly status: "ok" | "failed";
  readonly detail: string;
  /** What the device does after reporting. */
  readonly then?: "reboot" | "shutdown";
}

const REMEMBERED = 1000;

export class CommandExecutor {
  /** Settings applied by settings2tc. */
  readonly settings: Record<string, string | number | boolean> = {};
  private readonly done = new Map<string, CommandOutcome>();
  private count = 0;

  /** The outcome of a command already executed, if it was. */
  previous(commandId: string): CommandOutcome | undefined {
    return this.done.get(commandId);
  }

  /** Executes a new command and remembers its outcome. */
  execute(message: CommandMessage): CommandOutcome {
    const outcome = this.run(message);
    this.done.set(message.commandId, outcome);
    if (this.done.size > REMEMBERED) this.done.delete(this.done.keys().next().value!);
    this.count++;
    return outcome;
  }

  get executed(): number {
    return this.count;
  }

  private run(message: CommandMessage): CommandOutcome {
    switch (message.command) {
      case "reboot":
        return { status: "ok", detail: "rebooting", then: "reboot" };
      case "shutdown":
        return { status: "ok", detail: "shutting down", then: "shutdown" };
      case "settings2tc": {
        const names = Object.keys(message.settings ?? {});
        Object.assign(this.settings, message.settings ?? {});
        return { status: "ok", detail: names.length > 0 ? `applied ${names.length} setting(s): ${names.join(", ").slice(0, 200)}` : "no settings to apply" };
      }
    }
  }
}
