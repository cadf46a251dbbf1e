import { randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A few S3 API calls, path-style, in this process: CreateBucket, PutBucketVersioning, PutObject,
 * GetObject (with versionId), ListObjectsV2. Enough for the trust store's way through S3 to be
 * tested where LocalStack's image cannot be had; the same tests run against LocalStack where it can.
 */

interface Version {
  readonly versionId: string;
  readonly body: Buffer;
}

export interface FakeS3Request {
  readonly method: string;
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly from: string;
}

export class FakeS3 {
  readonly requests: FakeS3Request[] = [];
  private readonly buckets = new Map<string, { versioned: boolean; objects: Map<string, Version[]> }>();
  private server?: http.Server;

  async start(host = "127.0.0.1"): Promise<{ host: string; port: number; url: string }> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((r) => this.server!.listen(0, host, r));
    const port = (this.server.address() as AddressInfo).port;
    return { host, port, url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}` };
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://s3");
    const [, bucket = "", ...rest] = url.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    const versionId = url.searchParams.get("versionId") ?? undefined;
    this.requests.push({ method: req.method ?? "", bucket, key, versionId, from: req.socket.remoteAddress ?? "" });
    const error = (status: number, code: string) => {
      res.writeHead(status, { "content-type": "application/xml" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message><Resource>/${bucket}/${key}</Resource></Error>`);
    };
    const b = this.buckets.get(bucket);
    if (req.method === "PUT" && !key && url.searchParams.has("versioning")) {
      if (!b) return error(404, "NoSuchBucket");
      b.versioned = /<Status>Enabled<\/Status>/.test(body.toString());
      return void res.writeHead(200).end();
    }
    if (req.method === "PUT" && !key) {
      if (b) return error(409, "BucketAlreadyOwnedByYou");
      this.buckets.set(bucket, { versioned: false, objects: new Map() });
      return void res.writeHead(200, { location: `/${bucket}` }).end();
    }
    if (!b) return error(404, "NoSuchBucket");
    if (req.method === "PUT") {
      const id = b.versioned ? randomBytes(12).toString("base64url") : "null";
      const versions = b.versioned ? (b.objects.get(key) ?? []) : [];
      b.objects.set(key, [...versions, { versionId: id, body }]);
      res.writeHead(200, { etag: `"${randomBytes(8).toString("hex")}"`, ...(b.versioned ? { "x-amz-version-id": id } : {}) });
      return void res.end();
    }
    if (req.method === "GET" && !key) {
      const prefix = url.searchParams.get("prefix") ?? "";
      const keys = [...b.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      res.writeHead(200, { "content-type": "application/xml" });
      return void res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${prefix}</Prefix><KeyCount>${keys.length}</KeyCount><IsTruncated>false</IsTruncated>${keys.map((k) => `<Contents><Key>${k}</Key><Size>${b.objects.get(k)!.at(-1)!.body.length}</Size></Contents>`).join("")}</ListBucketResult>`,
      );
    }
    if (req.method === "GET") {
      const versions = b.objects.get(key);
      if (!versions) return error(404, "NoSuchKey");
      const v = versionId ? versions.find((x) => x.versionId === versionId) : versions.at(-1);
      if (!v) return error(404, "NoSuchVersion");
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": v.body.length, ...(b.versioned ? { "x-amz-version-id": v.versionId } : {}) });
      return void res.end(v.body);
    }
    error(405, "MethodNotAllowed");
  }
}
