import * as fs from "node:fs";

/**
 * Calls `onChange` once the files have settled after a change (size or modification time): how a
 * component picks up a re-written certificate, CRL or stack without a restart. Polling (fs.watchFile)
 * rather than fs.watch, because files are replaced by renames and written by other processes, and
 * polling sees both the same way everywhere. Returns the function that stops watching.
 */
export function watchFiles(files: readonly string[], pollMs: number, onChange: () => void, settleMs = 50): () => void {
  if (pollMs <= 0) return () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const listener = (now: fs.Stats, before: fs.Stats) => {
    if (now.mtimeMs === before.mtimeMs && now.size === before.size) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, settleMs);
  };
  for (const f of files) fs.watchFile(f, { interval: pollMs, persistent: false }, listener);
  return () => {
    clearTimeout(timer);
    for (const f of files) fs.unwatchFile(f, listener);
  };
}
