import { createInterface } from "node:readline";
import { ChildProcess } from "node:child_process";
import { ImiClient, ImiClientOptions, HttpAnswer } from "../ums/imi-client";
import type { Spawner } from "./component-process";
import type { RelayAnswer, RelayRequest } from "./admin-relay";
import { entry } from "./launch";

/** Talks to an admin relay process (admin-relay.ts) over its stdio. */
export class AdminRelay {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (a: HttpAnswer) => void; reject: (e: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let answer: RelayAnswer;
      try {
        answer = JSON.parse(line) as RelayAnswer;
      } catch {
        return;
      }
      const waiter = this.pending.get(answer.id);
      if (!waiter) return;
      this.pending.delete(answer.id);
      if ("error" in answer) waiter.reject(new Error(`admin relay: ${answer.error}`));
      else waiter.resolve({ status: answer.status, headers: answer.headers, text: answer.text });
    });
    child.once("exit", () => {
      for (const w of this.pending.values()) w.reject(new Error("the admin relay process exited"));
      this.pending.clear();
    });
  }

  /** Starts the relay with `spawner` (e.g. on the private side) and waits for its ready line. */
  static start(spawner: Spawner): Promise<AdminRelay> {
    const child = spawner(process.execPath, [entry("adminRelay")], { env: process.env, stdin: true });
    return new Promise((resolve, reject) => {
      const rl = createInterface({ input: child.stdout! });
      rl.once("line", () => resolve(new AdminRelay(child)));
      child.once("exit", (code) => reject(new Error(`the admin relay exited with code ${code} before it was ready`)));
    });
  }

  request(client: ImiClientOptions, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    const id = this.next++;
    const req: RelayRequest = { id, client, method, path, body: body === undefined ? undefined : body.toString(), headers };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify(req)}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }
}

/** An IMI client whose requests go through the relay: same API, another vantage point. */
export class RelayedImiClient extends ImiClient {
  constructor(
    private readonly clientOptions: ImiClientOptions,
    private readonly relay: AdminRelay,
  ) {
    super(clientOptions);
  }

  override request(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return this.relay.request(this.clientOptions, method, path, body, headers);
  }
}
