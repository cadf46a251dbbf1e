import { isUserError } from "../core/errors";

/**
 * Wraps a command's action: a UserError prints its message alone and exits with its code (2);
 * anything else is a bug and keeps its stack trace.
 */
export function runAction<A extends unknown[]>(action: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await action(...args);
      process.exitCode = code ?? 0;
    } catch (e) {
      if (isUserError(e)) {
        process.stderr.write(`ums-edge: ${e.message}\n`);
        process.exitCode = e.exitCode;
      } else {
        process.stderr.write(`ums-edge: internal error (please report it): ${(e as Error).stack ?? e}\n`);
        process.exitCode = 1;
      }
    }
  };
}
