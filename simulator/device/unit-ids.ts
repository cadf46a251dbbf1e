import { randomInt } from "node:crypto";

/**
 * Device identities: IGEL devices carry a MAC in IGEL's OUI 00:E0:C5, and OS 12 uses the MAC as
 * the unit id, so two fleets that onboard against one UMS must not share a MAC (the UMS refuses a
 * unit that is already enrolled). Fixed bases below RANDOM_FLOOR are for flows and benches that
 * pick their own; fleets without one take consecutive blocks from a random point above it, so
 * fleets of one process never collide and fleets of two processes collide only if their random
 * points land within a fleet's size of each other.
 */

export const IGEL_OUI = "00E0C5";

const MAC_SPACE = 0x1000000;
const RANDOM_FLOOR = 0x400000;
let cursor = RANDOM_FLOOR + randomInt(0, MAC_SPACE - RANDOM_FLOOR);

/** The first MAC offset of a block of `count` addresses no other fleet of this process has. */
export function nextUnitBase(count: number): number {
  const size = Math.max(1, count);
  if (cursor + size > MAC_SPACE) cursor = RANDOM_FLOOR;
  const base = cursor;
  cursor += size;
  return base;
}

/** The MAC (12 upper-case hex digits) of device `index` of a fleet starting at `base`. */
export function macFor(base: number, index: number): string {
  const n = (base + index) % MAC_SPACE;
  return IGEL_OUI + n.toString(16).toUpperCase().padStart(6, "0");
}
