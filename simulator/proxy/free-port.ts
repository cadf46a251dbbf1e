import * as net from "node:net";

/**
 * A TCP port that is free on `host` right now. nginx cannot listen on port 0 and report the port,
 * so we ask the kernel for one and hand it over; another process could take it in between, which
 * start() reports as nginx's bind error.
 */
export function pickFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
