/** Resolves on the first SIGINT or SIGTERM (long-running commands stop cleanly on either). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals) => {
      // Removed after this signal's other listeners ran: a library's exit hook (signal-exit, which
      // testcontainers loads) re-raises the signal when it finds itself the last listener, killing
      // the process before the topology is stopped (measured with `lab up --runtime containers`).
      setImmediate(() => {
        process.off("SIGINT", on);
        process.off("SIGTERM", on);
      });
      resolve(s);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

/**
 * Awaits `p` with the process kept alive meanwhile. A topology in containers holds no child process
 * or socket of this process that would (measured: `lab up --runtime containers` otherwise exited at
 * once, leaving its containers running). Only around the wait: an error before it must still end
 * the process.
 */
export async function holdUntil<T>(p: Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    return await p;
  } finally {
    clearInterval(keepAlive);
  }
}
