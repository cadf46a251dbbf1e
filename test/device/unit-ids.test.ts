import { macFor, nextUnitBase, IGEL_OUI } from "../../simulator/device/unit-ids";

test("fleets of one process get MAC blocks that do not overlap (the UMS refuses a unit that is already enrolled)", () => {
  const sizes = [1, 1, 3, 1000, 1, 65_536, 1];
  const blocks = sizes.map((n) => ({ from: nextUnitBase(n), n }));
  const macs = new Set<string>();
  for (const b of blocks) for (let i = 0; i < b.n; i++) macs.add(macFor(b.from, i));
  expect(macs.size).toBe(sizes.reduce((a, n) => a + n, 0));
  for (const m of macs) expect(m).toMatch(new RegExp(`^${IGEL_OUI}[0-9A-F]{6}$`));
});

test("random blocks stay above the fixed bases flows and benches choose (below 0x400000)", () => {
  for (let i = 0; i < 50; i++) expect(nextUnitBase(100_000)).toBeGreaterThanOrEqual(0x400000);
});
