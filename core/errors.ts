/**
 * An error the user can fix: printed as its message alone (never a stack trace), exit code 2.
 * The message names where (file, field), what is wrong, and the fix.
 */
export class UserError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = "UserError";
    this.exitCode = exitCode;
  }
}

export interface Problem {
  /** A file the problem is in, as the user named it. */
  readonly file?: string;
  /** Dotted path of the field, e.g. `stacks[1].ignoreClientCertificateExpiry`. */
  readonly field?: string;
  readonly problem: string;
  readonly fix?: string;
}

export function formatProblem(p: Problem): string {
  const where = [p.file, p.field].filter(Boolean).join(": ");
  return `${where ? `${where}: ` : ""}${p.problem}${p.fix ? `\n  fix: ${p.fix}` : ""}`;
}

/** One UserError carrying every problem found, so a user fixes them all in one pass. */
export class ProblemsError extends UserError {
  constructor(
    readonly problems: readonly Problem[],
    heading?: string,
  ) {
    super([...(heading ? [heading] : []), ...problems.map(formatProblem)].join("\n"));
    this.name = "ProblemsError";
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
