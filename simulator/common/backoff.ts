/**
 * Reconnect delays: exponential with "equal jitter" (half fixed, half random), so a fleet that lost
 * its UMS at once does not come back in lock-step, yet no device retries sooner than half the step.
 */

export interface BackoffOptions {
  /** First delay, ms. @default 1000 */
  readonly initialMs?: number;
  /** Largest delay, ms. @default 60000 */
  readonly maxMs?: number;
  /** Growth per failed attempt. @default 2 */
  readonly factor?: number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;

  constructor(
    options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialMs = options.initialMs ?? 1000;
    this.maxMs = options.maxMs ?? 60_000;
    this.factor = options.factor ?? 2;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs) || !(this.factor >= 1)) {
      throw new Error(`backoff: need 0 < initialMs <= maxMs and factor >= 1 (got ${this.initialMs}, ${this.maxMs}, ${this.factor})`);
    }
  }

  /** The delay before the next attempt; each call grows the step. */
  next(): number {
    const step = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    return Math.round(step / 2 + this.random() * (step / 2));
  }

  /** After a success: start again from the first step. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
