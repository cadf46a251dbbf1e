import type { Command } from "commander";
import { isUserError, UserError } from "../../core/errors";

/**
 * What every component's process entry shares (UMS, ICG, device fleet): flag parsing, one JSON
 * ready line, a clean stop on SIGTERM/SIGINT, user-fixable errors as their message with exit code 2.
 */

/** An integer flag within bounds, or undefined when not given. */
export function integerFlag(flag: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UserError(`${flag}: '${text}' is not an integer from ${min} to ${max}`);
  return n;
}

/** Prints the ready line, then serves until SIGTERM or SIGINT and resolves once `stop` has finished. */
export async function serveUntilSignal(ready: object, stop: () => Promise<void>): Promise<void> {
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      stop().then(resolve, resolve);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}

/** A command action: a UserError prints `label: message` and exits with its code; anything else is a bug and keeps its stack. */
export function entryAction<F>(label: string, run: (flags: F) => Promise<void>): (flags: F) => Promise<void> {
  return async (flags: F) => {
    try {
      await run(flags);
      process.exitCode = 0;
    } catch (e) {
      process.stderr.write(isUserError(e) ? `${label}: ${e.message}\n` : `${label}: internal error: ${(e as Error).stack ?? e}\n`);
      process.exitCode = isUserError(e) ? e.exitCode : 1;
    }
  };
}

/** Runs a component's command line as the process's main program; usage errors exit 2. */
export function runEntry(command: Command): void {
  void command.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2)).parseAsync(process.argv);
}
