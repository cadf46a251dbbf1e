import { ImageName } from "testcontainers";
import { imageName, localStackImage, probeEngine } from "../../../simulator/runtime/containers";
import { ENGINE_SKIP_ENV, LOCALSTACK_SKIP_ENV } from "./availability";

/** Decides once what can run here; the reasons reach the workers through the environment. */
export default async function globalSetup(): Promise<void> {
  const engine = await probeEngine();
  let engineSkip = "";
  let localStackSkip = "";
  if (!engine.ok) {
    engineSkip = `${engine.reason}; bash scripts/containers/ci.sh starts one`;
  } else {
    const missing: string[] = [];
    for (const kind of ["node", "nginx"] as const) if (!(await engine.client.image.exists(ImageName.fromString(imageName(kind))))) missing.push(imageName(kind));
    if (missing.length) engineSkip = `image ${missing.join(", ")} missing; run scripts/containers/build-images.sh`;
    const ls = localStackImage();
    if (!(await engine.client.image.exists(ImageName.fromString(ls))) && process.env.UMS_EDGE_LOCALSTACK !== "pull") {
      localStackSkip = `LocalStack image ${ls} is not on the engine (no registry reachable here); docker pull it or set UMS_EDGE_LOCALSTACK=pull`;
    }
  }
  process.env[ENGINE_SKIP_ENV] = engineSkip;
  process.env[LOCALSTACK_SKIP_ENV] = localStackSkip;
  const say = (what: string, why: string) => process.stdout.write(`\n[containers] ${what}: ${why ? `SKIPPED: ${why}` : "run"}`);
  say(`engine ${engine.ok ? engine.version : "-"}, ums-edge images`, engineSkip);
  say("LocalStack tests", engineSkip ? "no engine" : localStackSkip);
  process.stdout.write("\n");
}
