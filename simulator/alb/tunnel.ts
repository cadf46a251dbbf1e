import type * as net from "node:net";

/**
 * Bytes both ways between a client and a target after a protocol switch (WebSocket), unparsed,
 * with backpressure each way and the byte counts for the access log when either side closes.
 * One idle timer for the pair: AWS ("Edit attributes" > Connection idle timeout) closes a
 * connection when "no data has been sent or received" for the idle timeout, so traffic in either
 * direction keeps a WebSocket open, and silence both ways closes it (client and target sides).
 */
export function tunnel(client: net.Socket, target: net.Socket, idleTimeoutMs: number, onClose: (received: number, sent: number) => void, onIdle?: () => void): void {
  let received = 0;
  let sent = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const idle = () => {
    onIdle?.();
    client.destroy();
    target.destroy();
  };
  const touch = () => {
    timer?.refresh();
  };
  const relay = (from: net.Socket, to: net.Socket, count: (n: number) => void) => {
    from.on("data", (chunk: Buffer) => {
      count(chunk.length);
      touch();
      if (!to.write(chunk)) from.pause();
    });
    to.on("drain", () => from.resume());
    from.on("end", () => to.end());
    from.setTimeout(0);
    from.on("error", () => to.destroy());
    from.on("close", () => {
      clearTimeout(timer);
      to.destroy();
      if (!closed) {
        closed = true;
        onClose(received, sent);
      }
    });
  };
  relay(client, target, (n) => (received += n));
  relay(target, client, (n) => (sent += n));
  timer = setTimeout(idle, idleTimeoutMs);
  timer.unref();
  client.resume();
  target.resume();
}
