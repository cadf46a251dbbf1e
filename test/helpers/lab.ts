import { prepareLab, Lab } from "../../simulator/runtime/lab";
import { testDir } from "./lab-pki";

/** A simulation lab (PKI, synthesized stacks, application.yml files) per checkout and Jest worker, generated at test time. */
export function testLab(name = "lab"): Promise<Lab> {
  return prepareLab(testDir(name));
}
