import { watchFiles } from "../common/file-watch";
import type { AlbEvent } from "./events";
import type { ReloadChange } from "./alb-runtime";

/**
 * Watches a stack's cdk.tf.json and applies it again when it changes: a re-synthesized stack (a new
 * CA bundle, CRL or web certificate, each a new S3 object version or ACM re-import on AWS) reaches
 * the running emulator as `terraform apply` reaches a running load balancer, without a restart.
 * Reloads run one at a time. A change caught half-written (synthesis writes the file and its assets
 * in turn) is tried again a few times before it is reported as refused.
 */
export class StackReloader {
  private chain: Promise<unknown> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly unwatch: () => void;

  constructor(
    file: string,
    private readonly apply: () => Promise<ReloadChange[]>,
    private readonly emit: (e: AlbEvent) => void,
    pollMs: number,
    private readonly retries = { count: 4, delayMs: 250 },
  ) {
    this.unwatch = watchFiles([file], pollMs, () => this.schedule(0));
  }

  /** Applies the stack now; rejects (and emits `stack-reload-refused`) when it cannot be served. */
  reloadNow(): Promise<readonly ReloadChange[]> {
    const run = this.chain.then(() => this.attempt());
    this.chain = run.catch(() => undefined);
    return run;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unwatch();
  }

  private schedule(attempt: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.chain = this.chain.then(async () => {
        try {
          await this.attempt(attempt < this.retries.count);
        } catch {
          if (attempt < this.retries.count) this.schedule(attempt + 1);
        }
      });
    }, attempt === 0 ? 0 : this.retries.delayMs);
  }

  /** One try; `quiet`: a failure is not reported yet (another try follows). */
  private async attempt(quiet = false): Promise<ReloadChange[]> {
    try {
      const changes = await this.apply();
      this.emit({ kind: "stack-reloaded", time: new Date().toISOString(), changes });
      return changes;
    } catch (e) {
      if (!quiet) this.emit({ kind: "stack-reload-refused", time: new Date().toISOString(), reason: (e as Error).message });
      throw e;
    }
  }
}
