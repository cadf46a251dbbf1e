import { ImiClient, ImiHttpError } from "../../simulator/ums/imi-client";
import type { CommandLedger } from "./command-ledger";
import type { FleetRecorder } from "./fleet-recorder";

/**
 * Commands flowing while the soak runs: every tick, settings pushes (settings2tc, harmless to
 * repeat) to devices the UMS lists, at `perSecond` on average. A call that fails (the UMS or the
 * front restarting) is counted as refused and the next tick tries again; a 401 after a UMS restart
 * (its sessions are gone) logs in again. The device list is re-read every second: after a UMS
 * restart without persistence the devices come back under new ids.
 */

const TICK_MS = 200;

export class CommandDriver {
  private timer?: NodeJS.Timeout;
  private ids: string[] = [];
  private idsReadAt = 0;
  private owed = 0;
  private seq = 0;
  private busy = false;
  private stopped = false;

  constructor(
    private readonly imi: ImiClient,
    private readonly perSecond: number,
    private readonly ledger: CommandLedger,
    private readonly recorder: FleetRecorder,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    return this;
  }

  /** Stops issuing; resolves once the call in flight has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
  }

  private async tick(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    this.owed += (this.perSecond * TICK_MS) / 1000;
    try {
      if (Date.now() - this.idsReadAt > 1000 || this.ids.length === 0) {
        this.ids = (await this.call(() => this.imi.thinclients())).map((t) => t.id);
        this.idsReadAt = Date.now();
      }
      const n = Math.floor(this.owed);
      if (n === 0 || this.ids.length === 0) return;
      this.owed -= n;
      const targets = Array.from({ length: n }, () => this.ids[Math.floor(Math.random() * this.ids.length)]);
      const execs = await this.call(() => this.imi.command("settings2tc", targets, { "soak.sequence": ++this.seq }));
      const at = this.recorder.now();
      for (const e of execs) this.ledger.accept(e.exec_id, at);
      this.recorder.issued(execs.length);
    } catch {
      this.ledger.refusedCall();
      // Do not pile up what could not be sent while the UMS was away.
      this.owed = Math.min(this.owed, this.perSecond);
    } finally {
      this.busy = false;
    }
  }

  private call<T>(f: () => Promise<T>): Promise<T> {
    return withLogin(this.imi, f);
  }
}

/** One IMI call; a 401 (a restarted UMS forgot the session) logs in and tries once more. */
export async function withLogin<T>(imi: ImiClient, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (!(e instanceof ImiHttpError && e.status === 401)) throw e;
    await imi.login();
    return f();
  }
}
