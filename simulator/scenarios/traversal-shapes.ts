import { ALLOWED_PATH_PREFIXES } from "../../core/igel";
import { ROUTES } from "../protocol/routes";

/**
 * Request targets that start inside the allow-list and, once a servlet container has resolved them
 * (dot segments, ';' path parameters, percent-escapes, backslashes), name the IMI API outside it:
 * the shapes issue 14 found reaching `/umsapi/` through the ALB, and their relatives. Sent as they
 * are (no client-side normalisation), from every allowed prefix. Shared by the scenario row and the probe.
 */

/** Ways to spell "the parent directory" followed by a slash. */
export const DOT_DOT_SPELLINGS: readonly string[] = [
  "../",
  "%2e%2e/",
  "%2E%2E/",
  ".%2e/",
  "%2e./",
  "..;/",
  "..;jsessionid=x/",
  "..\\",
  "..%2f",
  "..%2F",
  "..%5c",
  "%2e%2e%2f",
  "./../",
  ".//../",
];

/** Where a traversal should land: the unauthenticated server status of the IMI API. */
export const TRAVERSAL_GOAL = ROUTES.serverStatus;

/** Every shape: each allowed prefix, each spelling, then the IMI path (without its leading slash). */
export function traversalTargets(goal: string = TRAVERSAL_GOAL): string[] {
  return ALLOWED_PATH_PREFIXES.flatMap((prefix) => DOT_DOT_SPELLINGS.map((dots) => `${prefix}${dots}${goal.slice(1)}`));
}
