import { startComponent } from "../../simulator/runtime/component-process";

/** A component process: ready on its first JSON line; every stdout line handed over as it comes. */

test("onLine receives every line the process prints, the ready line first, in order", async () => {
  const lines: string[] = [];
  const script = `console.log('starting'); console.log(JSON.stringify({ event: 'ready', port: 1 })); setTimeout(() => { console.log(JSON.stringify({ event: 'settled' })); console.log('bye'); }, 50); setTimeout(() => {}, 10000);`;
  const c = await startComponent<{ event: string; port: number }>({ name: "lines", command: process.execPath, args: ["-e", script], onLine: (l) => lines.push(l) });
  try {
    expect(c.ready).toEqual({ event: "ready", port: 1 });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => lines.includes("bye") && (clearInterval(poll), resolve()), 10);
    });
    expect(lines).toEqual(["starting", '{"event":"ready","port":1}', '{"event":"settled"}', "bye"]);
    expect(c.output).toEqual(lines);
  } finally {
    await c.stop();
  }
});
