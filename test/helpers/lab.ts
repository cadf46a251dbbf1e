import * as os from "node:os";
import * as path from "node:path";
import { prepareLab, Lab } from "../../simulator/runtime/lab";

/** A simulation lab (PKI, synthesized stacks, application.yml files) per Jest worker, generated at test time. */
export function testLab(name = "lab"): Promise<Lab> {
  return prepareLab(path.join(os.tmpdir(), "ums-edge-test", `${name}-w${process.env.JEST_WORKER_ID ?? "0"}`));
}
