import { UserError } from "../../../core/errors";
import type { NetworkSide } from "../security-groups/model";

/** A namespace of the lab: one per side, and the router joining them. */
export type NamespaceRole = NetworkSide | "router";

const SHORT: Readonly<Record<NamespaceRole, string>> = { internet: "inet", public: "pub", private: "priv", router: "rtr" };
const ROLE_BY_SHORT = Object.fromEntries(Object.entries(SHORT).map(([role, short]) => [short, role])) as Record<string, NamespaceRole>;

export const DEFAULT_NETNS_PREFIX = "ums-edge-";
const PREFIX = /^[a-z][a-z0-9-]{0,23}$/;

export function validatePrefix(prefix: string): void {
  if (!PREFIX.test(prefix)) {
    throw new UserError(`netns prefix '${prefix}' is not usable\n  fix: give 1-24 characters: a lower-case letter, then lower-case letters, digits or '-' (e.g. '${DEFAULT_NETNS_PREFIX}')`);
  }
}

/**
 * Namespace names: `<prefix><owner pid>-<lab id>-<role>`. The owner pid lets cleanupStale tell a
 * crashed run's leftovers from a lab another process is still using.
 */
export function labNamespaceNames(prefix: string, ownerPid: number, id: string): Readonly<Record<NamespaceRole, string>> {
  return Object.fromEntries(Object.entries(SHORT).map(([role, short]) => [role, `${prefix}${ownerPid}-${id}-${short}`])) as Record<NamespaceRole, string>;
}

export interface ParsedNamespaceName {
  readonly ownerPid: number;
  readonly id: string;
  readonly role: NamespaceRole;
}

export function parseNamespaceName(prefix: string, name: string): ParsedNamespaceName | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const m = /^(\d+)-([a-z0-9]+)-([a-z]+)$/.exec(name.slice(prefix.length));
  const role = m && ROLE_BY_SHORT[m[3]];
  return m && role ? { ownerPid: Number(m[1]), id: m[2], role } : undefined;
}
