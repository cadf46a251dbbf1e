import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findPostgresBin, startLabPostgres, StartedPostgres } from "../../simulator/runtime/lab-postgres";
import { openUmsStore, SqlUmsStore } from "../../simulator/ums/store/open-store";

/**
 * Two UMS servers' stores on one PostgreSQL (the lab's own, as the HA topologies start it): what one
 * server does, the other sees; nothing that must happen once can happen twice between them.
 */

const pgBin = findPostgresBin();
const describeWithPg = pgBin ? describe : describe.skip;
if (!pgBin) test.skip("PostgreSQL is not installed here (no /usr/lib/postgresql/*/bin/initdb): the two-server store tests are skipped", () => undefined);

describeWithPg("two servers sharing the lab's PostgreSQL", () => {
  let dir: string;
  let pg: StartedPostgres;
  let a: SqlUmsStore;
  let b: SqlUmsStore;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-pg-test-"));
    fs.chmodSync(dir, 0o755);
    pg = await startLabPostgres(path.join(dir, "postgres"));
    [a, b] = await Promise.all([openUmsStore(pg.url), openUmsStore(pg.url)]);
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await pg?.stop();
    expect(fs.existsSync(path.join(dir, "postgres"))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the lab's server listens on a unix socket under the lab directory only", () => {
    expect(pg.url).toMatch(/^postgresql:\/\/ums@\/ums\?host=/);
    expect(decodeURIComponent(pg.url.split("host=")[1])).toContain(path.join(dir, "postgres"));
  });

  test("a key minted on one server onboards once, on either", async () => {
    const [key] = await a.keys.mint(1);
    const results = await Promise.all([a.keys.consume(key), b.keys.consume(key)]);
    expect(results.sort()).toEqual(["usable", "used"]);
  });

  test("a device enrolled on one server is the same device on the other", async () => {
    const onboarded = await a.devices.onboard({ unitId: "HA-1", mac: "00E0C5000101", firmware: "12.5.0", certificateSerial: "AA01" });
    expect(onboarded.ok).toBe(true);
    expect(await b.devices.onboard({ unitId: "HA-1", mac: "00E0C5000101", firmware: "12.5.0", certificateSerial: "AA02" })).toMatchObject({ ok: false });
    const seen = await b.devices.enroll({ unitId: "HA-1", mac: "00E0C5000101", firmware: "12.5.0", enrolledBy: "certificate" });
    expect(seen.id).toBe(onboarded.device.id);
  });

  test("a command queued on one server is announced to the other; once finished, no server claims it again", async () => {
    const heard: string[] = [];
    b.db.onCommandsQueued((id) => heard.push(id));
    const c = await a.commands.enqueue({ deviceId: "77", mac: "00E0C5000177" }, "reboot");
    await new Promise((r) => setTimeout(r, 300));
    expect(heard).toContain("77");
    expect(await b.commands.claim(c.execId, "b:8443")).toMatchObject({ deliveries: 1, deliveredBy: "b:8443" });
    expect(await a.commands.acknowledge("77", c.execId)).toBe("applied");
    expect(await b.commands.complete("77", c.execId, "ok")).toBe("applied");
    expect(await a.commands.claim(c.execId, "a:8443")).toBeUndefined();
    expect(await a.commands.complete("77", c.execId, "ok")).toBe("duplicate");
  });

  test("device ids stay unique when both servers enroll at once", async () => {
    const enrolled = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).devices.enroll({ unitId: `HA-RACE-${i}`, mac: "00E0C5000200", firmware: "12", enrolledBy: "certificate" })));
    expect(new Set(enrolled.map((d) => d.id)).size).toBe(10);
  });
});
