import cluster from "node:cluster";
import { isUserError } from "../../core/errors";
import { readStack } from "../terraform/read-stack";
import { startInProcess, Serving } from "./alb-emulator";
import { FromWorker, ToWorker, WorkerConfig, WORKER_ENV } from "./cluster-primary";

/** Entry point of an ALB worker process (forked by ClusterRuntime). */

function send(m: FromWorker): void {
  process.send?.(m);
}

async function main(config: WorkerConfig): Promise<void> {
  let serving: Serving;
  try {
    const stack = readStack(config.stackDir);
    serving = await startInProcess(stack, { ...config.settings, emit: (event) => send({ t: "event", event }) }, config.host, new Map(config.ports));
  } catch (e) {
    send({ t: "error", message: (e as Error).message, user: isUserError(e) });
    process.exit(2);
  }
  process.on("message", (m: ToWorker) => {
    if (m.t === "health") serving.setHealth(m.group, m.target, m.state, m.reason, m.description);
    else if (m.t === "flush") void serving.flushLogs().then(() => send({ t: "flushed", id: m.id }));
    else if (m.t === "reload") {
      serving.reload().then(
        (changes) => send({ t: "reloaded", id: m.id, changes }),
        (e: Error) => send({ t: "reloaded", id: m.id, error: e.message }),
      );
    } else if (m.t === "stop") void serving.close().finally(() => process.exit(0));
  });
  // The primary decides when to stop; a signal to the process group must not kill a worker first.
  process.on("SIGINT", () => undefined);
  process.on("SIGTERM", () => undefined);
  process.on("disconnect", () => void serving.close().finally(() => process.exit(0)));
  send({ t: "listening", ports: [...serving.localPorts] });
}

if (cluster.isWorker && process.env[WORKER_ENV]) {
  void main(JSON.parse(process.env[WORKER_ENV]!) as WorkerConfig);
}
