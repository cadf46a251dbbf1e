import { UserError } from "../core/errors";

/**
 * A construct refused its props before building anything. The message names the construct, the
 * prop and (where it matters) the mode, in the words of the props: "AlbFront: You must set
 * 'trustStoreArn' when 'mode' is 'verify'". A UserError, so the CLI prints the message alone.
 */
export class PropsError extends UserError {
  constructor(
    readonly construct: string,
    readonly prop: string,
    readonly reason: string,
  ) {
    super(`${construct}: ${reason}`);
    this.name = "PropsError";
  }
}

/** Collects a construct's prop problems and throws the first; the validators read as a list of rules. */
export function propsChecker(construct: string): { check(ok: boolean, prop: string, reason: string): void } {
  return {
    check(ok, prop, reason) {
      if (!ok) throw new PropsError(construct, prop, reason);
    },
  };
}
