import type { BoundPorts, WaitStrategy } from "testcontainers";
import type { ContainerOutput } from "./container-output";

/** The container exited before it was ready. */
export class ContainerExitedError extends Error {
  constructor(readonly exitCode: number) {
    super(`exited with code ${exitCode} before it was ready`);
  }
}

/** The container did not get ready in time. */
export class ContainerNotReadyError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`was not ready within ${timeoutMs} ms`);
  }
}

/** What says a component is ready: a line it printed, or a probe of its ports (for nginx, which prints none). */
export type ReadyCheck = (output: ContainerOutput, boundPorts: BoundPorts) => boolean | Promise<boolean>;

type DockerodeContainer = Parameters<WaitStrategy["waitUntilReady"]>[0];

/**
 * Waits for `check` and fails at once when the container exits, instead of waiting out the
 * timeout (testcontainers' log strategy notices an exit, its HTTP strategy does not). Works on
 * images without a shell, unlike `Wait.forListeningPorts()`.
 */
export class ReadyWaitStrategy implements WaitStrategy {
  private timeoutMs = 30_000;
  private timeoutSet = false;

  constructor(
    private readonly output: ContainerOutput,
    private readonly check: ReadyCheck,
    private readonly pollMs = 50,
  ) {}

  withStartupTimeout(startupTimeoutMs: number): this {
    this.timeoutMs = startupTimeoutMs;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.timeoutMs;
  }

  async waitUntilReady(container: DockerodeContainer, boundPorts: BoundPorts): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let polls = 0;
    for (;;) {
      if (await this.check(this.output, boundPorts)) return;
      // The output ending means the container exited; otherwise ask the engine now and then.
      if (this.output.ended || polls++ % 10 === 9) {
        const state = (await container.inspect()).State;
        if (!state.Running) {
          await this.output.settle(1000);
          if (await this.check(this.output, boundPorts)) return;
          throw new ContainerExitedError(state.ExitCode);
        }
      }
      if (Date.now() > deadline) throw new ContainerNotReadyError(this.timeoutMs);
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }
}
