import { WebSocket } from "ws";

/**
 * Starts a WebSocket's close handshake with `close()` and resolves when it has closed, or after
 * `graceMs` by terminating it: a stopping server must not wait on a peer that never answers.
 */
export function closeAndWait(ws: WebSocket, close: () => void, graceMs = 1000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, graceMs);
    ws.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    close();
  });
}
