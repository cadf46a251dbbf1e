import type * as net from "node:net";

/**
 * Bytes both ways between a client and a target after a protocol switch (WebSocket), unparsed,
 * with backpressure each way, the load balancer's idle timeout on both sides, and the byte counts
 * for the access log when either side closes.
 */
export function tunnel(client: net.Socket, target: net.Socket, idleTimeoutMs: number, onClose: (received: number, sent: number) => void): void {
  let received = 0;
  let sent = 0;
  let closed = false;
  const relay = (from: net.Socket, to: net.Socket, count: (n: number) => void) => {
    from.on("data", (chunk: Buffer) => {
      count(chunk.length);
      if (!to.write(chunk)) from.pause();
    });
    to.on("drain", () => from.resume());
    from.on("end", () => to.end());
    from.setTimeout(idleTimeoutMs, () => from.destroy());
    from.on("error", () => to.destroy());
    from.on("close", () => {
      to.destroy();
      if (!closed) {
        closed = true;
        onClose(received, sent);
      }
    });
  };
  relay(client, target, (n) => (received += n));
  relay(target, client, (n) => (sent += n));
  client.resume();
  target.resume();
}
