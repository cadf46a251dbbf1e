import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { containerOptionsOf } from "../../simulator/runtime/containers";

/**
 * The options a component gets inside its container, read from its flag declaration: files and
 * directories are copied to /in, the ALB's log directory is bind-mounted at /out, the listen host
 * is 0.0.0.0. No engine needed.
 */

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-container-options-"));
  fs.mkdirSync(path.join(dir, "pki"));
  fs.mkdirSync(path.join(dir, "stack"));
  fs.writeFileSync(path.join(dir, "application.yml"), "igel: {}\n");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("the UMS: its PKI directory and application.yml are copied in and named by their paths inside; other options pass as they are", () => {
  const r = containerOptionsOf("ums", { pki: path.join(dir, "pki"), appConfig: path.join(dir, "application.yml"), host: "10.0.0.1", port: 8443, icgUrl: "https://10.0.0.2:8443", heartbeatMs: 1000 });
  expect(r.options).toEqual({ pki: "/in/pki", appConfig: "/in/appConfig/application.yml", host: "0.0.0.0", port: 8443, icgUrl: "https://10.0.0.2:8443", heartbeatMs: 1000 });
  expect(r.copies).toEqual([
    { host: path.join(dir, "pki"), container: "/in/pki" },
    { host: path.join(dir, "application.yml"), container: "/in/appConfig/application.yml" },
  ]);
  expect(r.mounts).toEqual([]);
});

test("the ALB: the stack is copied, the log directory (an output) is created here and bind-mounted", () => {
  const logs = path.join(dir, "run", "alb-logs");
  const r = containerOptionsOf("alb", { stack: path.join(dir, "stack"), targets: ["10.0.0.3:8443"], logs, ports: ["8443=8443"] });
  expect(r.options).toMatchObject({ stack: "/in/stack", logs: "/out/logs", host: "0.0.0.0", targets: ["10.0.0.3:8443"] });
  expect(r.mounts).toEqual([{ host: logs, container: "/out/logs" }]);
  expect(fs.statSync(logs).isDirectory()).toBe(true);
});

test("a file that does not exist is refused before any container is made, naming the flag", () => {
  expect(() => containerOptionsOf("icg", { pki: path.join(dir, "nope") })).toThrow(/^icg --pki: '.*nope' does not exist, so it cannot be copied into the icg container\n  fix: give an existing directory/);
});
