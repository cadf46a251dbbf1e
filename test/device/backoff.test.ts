import { Backoff } from "../../simulator/common/backoff";
import { macFor } from "../../simulator/device/unit-ids";

test("delays grow exponentially up to the cap, with half of each step random", () => {
  const low = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 0);
  expect([1, 2, 3, 4, 5, 6].map(() => low.next())).toEqual([50, 100, 200, 400, 500, 500]);
  const high = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 0.999999);
  expect([1, 2, 3, 4, 5].map(() => high.next())).toEqual([100, 200, 400, 800, 1000]);
});

test("reset starts again from the first step", () => {
  const b = new Backoff({ initialMs: 10, maxMs: 1000 }, () => 0.5);
  b.next();
  b.next();
  b.reset();
  expect(b.next()).toBe(8); // 5 + 0.5 * 5, rounded
});

test("jitter spreads a fleet: 100 devices at the same step do not share one delay", () => {
  const delays = new Set(Array.from({ length: 100 }, () => new Backoff({ initialMs: 1000 }).next()));
  expect(delays.size).toBeGreaterThan(50);
  for (const d of delays) expect(d).toBeGreaterThanOrEqual(500);
});

test("nonsense options are refused", () => {
  expect(() => new Backoff({ initialMs: 0 })).toThrow("need 0 < initialMs <= maxMs");
  expect(() => new Backoff({ initialMs: 100, maxMs: 10 })).toThrow("need 0 < initialMs <= maxMs");
});

test("MACs carry IGEL's OUI and wrap inside the 24-bit device part", () => {
  expect(macFor(0, 0)).toBe("00E0C5000000");
  expect(macFor(0xabcd00, 0xef)).toBe("00E0C5ABCDEF");
  expect(macFor(0xffffff, 1)).toBe("00E0C5000000");
});
