import { randomInt } from "node:crypto";

/**
 * Device identities: IGEL devices carry a MAC in IGEL's OUI 00:E0:C5, and OS 12 uses the MAC as
 * the unit id. A fleet takes a block of 2^24 addresses from a base, so that two fleets (or two
 * runs against one UMS) do not collide unless asked to.
 */

export const IGEL_OUI = "00E0C5";

/** A random base, leaving room for a fleet of up to 65536 devices below 2^24. */
export function randomUnitBase(): number {
  return randomInt(0, 0xff) << 16;
}

/** The MAC (12 upper-case hex digits) of device `index` of a fleet starting at `base`. */
export function macFor(base: number, index: number): string {
  const n = (base + index) % 0x1000000;
  return IGEL_OUI + n.toString(16).toUpperCase().padStart(6, "0");
}
