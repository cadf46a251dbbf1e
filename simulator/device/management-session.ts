import * as tls from "node:tls";
import { WebSocket, RawData } from "ws";
import { ROUTES } from "../protocol/routes";
import { CLOSE, MAX_MESSAGE_BYTES, MessageError, parseServerMessage, CommandMessage, DeviceMessage, WelcomeMessage } from "../protocol/messages";
import { secureContextOf, ClientIdentityPem, TlsTrust } from "./tls-trust";
import { ConnectionFacts, DeviceRefusal, refusalFromError, refusalFromHttp } from "./refusal";

/**
 * One management WebSocket of a device, from connect to close: mTLS to the cluster address,
 * hello → welcome, heartbeats (and giving up on a silent server), and the first reason it ended —
 * HTTP refusal before the upgrade, TLS failure, close code, or protocol error. What the device
 * does with commands is its owner's business.
 */

export interface SessionOptions {
  readonly clusterUrl: string;
  readonly trust: TlsTrust;
  readonly identity: ClientIdentityPem;
  readonly hello: { readonly unitId: string; readonly mac: string; readonly firmware: string };
  /** TLS + upgrade + welcome must complete within this, ms. */
  readonly handshakeTimeoutMs: number;
  /** The device's own heartbeat interval, ms. @default the interval the server's welcome names */
  readonly heartbeatMs?: number;
}

export interface SessionHandlers {
  onWelcome(connectMs: number, welcome: WelcomeMessage): void;
  onCommand(message: CommandMessage): void;
  onHeartbeatAck(rttMs: number): void;
}

export interface SessionEnd {
  /** The session got as far as a welcome. */
  readonly welcomed: boolean;
  readonly closeCode: number;
  readonly reason: string;
  /** Why it ended, if not by the device's own choice. */
  readonly refusal?: DeviceRefusal;
  /** Set by the owner when a command ends the session (reboot, shutdown). */
  readonly then?: "reboot" | "shutdown";
}

export class ManagementSession {
  /** Resolves when the socket has closed. */
  readonly ended: Promise<SessionEnd>;
  private readonly ws: WebSocket;
  private welcomed = false;
  private then?: "reboot" | "shutdown";
  private refusal?: DeviceRefusal;

  constructor(options: SessionOptions, handlers: SessionHandlers) {
    const started = performance.now();
    const url = new URL(ROUTES.deviceSocket, options.clusterUrl.replace(/^http/, "ws")).toString();
    const facts: { -readonly [K in keyof ConnectionFacts]: ConnectionFacts[K] } = { tlsEstablished: false, clientCertSent: true, answered: false };
    let heartbeat: NodeJS.Timeout | undefined;
    let lastHeard = Date.now();
    const stage = () => (this.welcomed ? "session" : "connect");
    const ws = new WebSocket(url, {
      servername: options.trust.serverName ?? new URL(options.clusterUrl).hostname,
      handshakeTimeout: options.handshakeTimeoutMs,
      maxPayload: MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
      // Our own connect, to learn when (and with which version) the TLS handshake completed.
      // The device's TLS context (CA, certificate, key) is built once per identity, not per connection.
      createConnection: (opts: tls.ConnectionOptions) => {
        const socket = tls.connect({ ...opts, secureContext: secureContextOf(options.trust, options.identity) });
        socket.once("secureConnect", () => {
          facts.tlsEstablished = true;
          facts.tlsProtocol = socket.getProtocol() ?? undefined;
        });
        return socket;
      },
    } as ConstructorParameters<typeof WebSocket>[2]);
    this.ws = ws;
    const welcomeTimer = setTimeout(() => {
      if (!this.welcomed && ws.readyState === WebSocket.OPEN) {
        this.refusal = { stage: "connect", kind: "protocol", at: new Date().toISOString(), reason: `no welcome within ${options.handshakeTimeoutMs} ms after hello` };
        ws.close(CLOSE.policy, "no welcome");
      }
    }, options.handshakeTimeoutMs);

    ws.on("upgrade", () => (facts.answered = true));
    ws.on("unexpected-response", (req, res) => {
      facts.answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        this.refusal = refusalFromHttp("connect", res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"));
        req.destroy();
        ws.terminate();
      });
      res.on("error", () => ws.terminate());
    });
    ws.on("error", (err: NodeJS.ErrnoException) => {
      this.refusal ??= refusalFromError(stage(), err, facts);
    });
    ws.on("open", () => this.send({ type: "hello", ...options.hello }));
    ws.on("message", (data: RawData, isBinary: boolean) => {
      lastHeard = Date.now();
      if (isBinary) return ws.close(CLOSE.unsupportedData, "binary frame from server");
      let message;
      try {
        message = parseServerMessage(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
      } catch (e) {
        if (!(e instanceof MessageError)) throw e;
        this.refusal = { stage: stage(), kind: "protocol", at: new Date().toISOString(), reason: `bad server message: ${e.message}` };
        return ws.close(e.closeCode, e.message.slice(0, 120));
      }
      switch (message.type) {
        case "welcome": {
          if (this.welcomed) return;
          this.welcomed = true;
          clearTimeout(welcomeTimer);
          const every = options.heartbeatMs ?? message.heartbeatMs;
          heartbeat = setInterval(() => {
            if (Date.now() - lastHeard > every * 3) {
              this.refusal = { stage: "session", kind: "protocol", at: new Date().toISOString(), reason: `no answer from the server for ${every * 3} ms` };
              return ws.terminate();
            }
            this.send({ type: "heartbeat", sentAt: Date.now() });
          }, every);
          return handlers.onWelcome(performance.now() - started, message);
        }
        case "heartbeat-ack":
          return handlers.onHeartbeatAck(Date.now() - message.sentAt);
        case "command":
          return handlers.onCommand(message);
        case "error":
          // The server explains itself before closing; the close code follows.
          this.refusal = { stage: stage(), kind: "close", at: new Date().toISOString(), reason: message.reason };
          return;
      }
    });
    this.ended = new Promise((resolve) =>
      ws.on("close", (code: number, reasonBuffer: Buffer) => {
        clearTimeout(welcomeTimer);
        clearInterval(heartbeat);
        const reason = reasonBuffer.toString("utf8");
        const byServer = code !== 1005 && code !== 1006 && code !== CLOSE.normal && code !== CLOSE.goingAway && !this.then;
        if (this.refusal?.kind === "close" || (byServer && !this.refusal)) {
          // A close with a code: the server's words (its error message) with the close code.
          this.refusal = { stage: stage(), kind: "close", at: new Date().toISOString(), closeCode: code, reason: this.refusal?.reason ?? reason };
        }
        resolve({ welcomed: this.welcomed, closeCode: code, reason, refusal: this.refusal, then: this.then });
      }),
    );
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a message if the socket is open; false if it is not. */
  send(message: DeviceMessage): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** Ends the session because a command said so (reboot, shutdown): a normal close. */
  endFor(then: "reboot" | "shutdown", closeNow = true): void {
    this.then = then;
    if (closeNow && this.open) this.ws.close(CLOSE.normal, then === "reboot" ? "rebooting" : "shutting down");
  }

  /** Drops the connection without a close handshake, as a network failure would. */
  drop(): void {
    this.ws.terminate();
  }

  /** Closes the session from the device's side. */
  close(code: number = CLOSE.goingAway, reason = "device stopping"): void {
    if (this.open) this.ws.close(code, reason);
    else this.ws.terminate();
  }
}
