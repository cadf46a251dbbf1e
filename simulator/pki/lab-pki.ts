import * as fs from "node:fs";
import * as path from "node:path";
import { createHash, X509Certificate } from "node:crypto";
import { generateRsaKeyPair, KeyPairPem } from "./keys";
import { issueCertificate, randomSerialHex, DistinguishedName } from "./certificates";
import { buildCrl } from "./crl";
import { writePrivateFile, writePublicFile } from "./files";
import { certificatesFromPem } from "../../core/pem";

/**
 * The lab PKI: what a UMS installation holds (device CA, web certificate, ICG certificate) plus
 * test devices, good and bad, laid out the way the IGEL guide names its exports.
 */

export const BAD_DEVICE_KINDS = [
  "self-signed",
  "other-ca",
  "expired",
  "not-yet-valid",
  "revoked",
  "too-deep",
  "x509-v1",
  "rsa-1024",
] as const;
export type BadDeviceKind = (typeof BAD_DEVICE_KINDS)[number];
export type LabDeviceKind = "good" | BadDeviceKind;

export interface CertificateFiles {
  /** The certificate alone (PEM). */
  readonly cert: string;
  /** Its private key (PEM, 0600). */
  readonly key: string;
  /** The certificate followed by the intermediates its holder presents, leaf first. */
  readonly chain: string;
}

export interface LabPki {
  readonly dir: string;
  readonly fqdn: string;
  readonly createdAt: string;
  /** The UMS "Export Client Certificate Chain": device CA intermediate + root, the ALB trust store bundle. */
  readonly clientCaChain: string;
  /**
   * The CA that signs device certificates at onboarding (the UMS's own), the chain a device presents
   * above its certificate (the device CA and any intermediates, not the root), and the root.
   */
  readonly deviceCa: { readonly cert: string; readonly key: string; readonly chain: string; readonly rootCert: string };
  /** Key sizes of the device CA chain, root first: its length is the chain's depth. */
  readonly deviceCaShape: DeviceCaShape;
  /** CRL of the device CA listing the `revoked` test device. */
  readonly crl: string;
  /**
   * The UMS web certificate as the IGEL guide exports it from the keystore, and `rootCert`, the CA
   * devices and browsers trust for it: the top of `entireChain` (the lab's web root, or the top of
   * the administrator's own chain when their certificate is used).
   */
  readonly web: { readonly privateKey: string; readonly headOnlyBody: string; readonly entireChain: string; readonly rootCert: string };
  /** Where the web certificate came from: the lab made it, or the administrator's files were copied in. */
  readonly webSource: "lab" | { readonly entireChainSha256: string };
  /** The lab CA that issued the ICG's and the UMS's tunnel certificates (they check each other with it). */
  readonly gatewayCa: string;
  /** The ICG's certificate (Cloud Gateway certificate, issued by the UMS web root). */
  readonly icg: CertificateFiles;
  /** The UMS's identity when it connects out to an ICG. */
  readonly umsClient: CertificateFiles;
  readonly devices: Readonly<Record<LabDeviceKind, CertificateFiles>>;
  /** Cached device keys for fleets (see KeyPool). */
  readonly keyPool: string;
}

export const DEFAULT_FQDN = "ums.lab.test";
const MANIFEST = "pki.json";
const REUSE_DAYS = 180;
const DAY = 86_400_000;
const ORG = "IGEL Lab (ums-edge test PKI)";

/** The shape of a device CA chain: RSA key sizes, root first (its length is the depth: 1 = a root that issues devices itself). */
export interface DeviceCaShape {
  readonly rsaBits: readonly number[];
}

export const DEFAULT_DEVICE_CA_SHAPE: DeviceCaShape = { rsaBits: [2048, 2048] };

/** An administrator's web certificate files (the IGEL guide's keystore exports). */
export interface WebCertificateFiles {
  readonly privateKey: string;
  readonly headOnlyBody: string;
  readonly entireChain: string;
}

export interface InitLabPkiOptions {
  readonly fqdn?: string;
  /** The device CA chain to build. @default DEFAULT_DEVICE_CA_SHAPE (root + device CA, RSA-2048) */
  readonly deviceCaShape?: DeviceCaShape;
  /** Serve these files as the web certificate instead of a lab one (copied in; devices trust the top of the chain). @default a lab certificate */
  readonly web?: WebCertificateFiles;
  /** Regenerate even when a usable PKI is already there. @default false */
  readonly force?: boolean;
}

/** Loads the PKI in `dir`; throws if there is none. */
export function loadLabPki(dir: string): LabPki {
  const file = path.join(dir, MANIFEST);
  if (!fs.existsSync(file)) throw new Error(`no lab PKI in ${dir} (missing ${MANIFEST}); run 'ums-edge pki init --dir ${dir}'`);
  const relative = JSON.parse(fs.readFileSync(file, "utf8")) as LabPki;
  return { ...(resolvePaths(relative, path.resolve(dir)) as LabPki), dir: path.resolve(dir) };
}

function resolvePaths(value: unknown, dir: string, key = ""): unknown {
  if (typeof value === "string") {
    return ["fqdn", "createdAt", "dir", "entireChainSha256"].includes(key) || value === "lab" ? value : path.join(dir, value);
  }
  // Arrays stay arrays (deviceCaShape.rsaBits): reuse compares the manifest with the inputs as JSON.
  if (Array.isArray(value)) return value.map((v) => resolvePaths(v, dir, key));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolvePaths(v, dir, k)]));
  }
  return value;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function webSourceOf(web: WebCertificateFiles | undefined): LabPki["webSource"] {
  return web ? { entireChainSha256: sha256(fs.readFileSync(web.entireChain, "utf8")) } : "lab";
}

/** An existing PKI is reused when it is recent, complete and made with the same inputs. */
function usable(dir: string, fqdn: string, shape: DeviceCaShape, webSource: LabPki["webSource"]): boolean {
  try {
    const pki = loadLabPki(dir);
    const fresh = Date.now() - Date.parse(pki.createdAt) < REUSE_DAYS * DAY;
    const files = [pki.clientCaChain, pki.crl, pki.web.privateKey, pki.icg.key, pki.gatewayCa, pki.deviceCa.chain, ...Object.values(pki.devices).map((d) => d.key)];
    const same = JSON.stringify([pki.fqdn, pki.deviceCaShape, pki.webSource]) === JSON.stringify([fqdn, shape, webSource]);
    return same && fresh && files.every((f) => fs.existsSync(f));
  } catch {
    return false;
  }
}

interface Issued {
  readonly certPem: string;
  readonly keys: KeyPairPem;
}

/** Creates the lab PKI in `dir` (or reuses the one there). Private keys are written 0600. */
export async function initLabPki(dir: string, options: InitLabPkiOptions = {}): Promise<LabPki> {
  const fqdn = options.fqdn ?? DEFAULT_FQDN;
  const shape = options.deviceCaShape ?? DEFAULT_DEVICE_CA_SHAPE;
  if (shape.rsaBits.length < 1 || shape.rsaBits.some((b) => !Number.isInteger(b) || b < 1024 || b > 8192)) {
    throw new Error(`deviceCaShape: ${JSON.stringify(shape.rsaBits)} is not a list of 1 or more RSA key sizes from 1024 to 8192`);
  }
  const webSource = webSourceOf(options.web);
  if (!options.force && usable(dir, fqdn, shape, webSource)) return loadLabPki(dir);

  // Keys first, all at once: generation dominates and runs in parallel on the thread pool.
  const names = ["webRoot", "web", "icg", "umsClient", "rogueRoot", "sub1", "sub2", "sub3", "good", "selfSigned", "bad"] as const;
  const generated = await Promise.all([...names.map(() => generateRsaKeyPair(2048)), ...shape.rsaBits.map((bits) => generateRsaKeyPair(bits))]);
  const keys = Object.fromEntries(names.map((n, i) => [n, generated[i]])) as Record<(typeof names)[number], KeyPairPem>;
  const caKeys = generated.slice(names.length);
  const weakKey = await generateRsaKeyPair(1024);

  const now = Date.now();
  const dn = (commonName: string, organizationalUnit: string): DistinguishedName => ({ commonName, organization: ORG, organizationalUnit });
  const issue = (
    subject: DistinguishedName,
    subjectKeys: KeyPairPem,
    issuer: Issued | undefined,
    profile: "ca" | "client" | "server" | "server-and-client",
    extra: { notBefore?: Date; notAfter?: Date; validityDays?: number; dnsNames?: string[]; ipAddresses?: string[]; version?: 1 | 3; serialHex?: string } = {},
  ): Issued => ({
    certPem: issueCertificate({
      subject,
      publicKeyPem: subjectKeys.publicKeyPem,
      issuer: issuer ? { certificatePem: issuer.certPem, privateKeyPem: issuer.keys.privateKeyPem } : { privateKeyPem: subjectKeys.privateKeyPem },
      profile,
      ...extra,
    }),
    keys: subjectKeys,
  });

  // The device CA chain: a root, intermediates, and the CA that signs devices (the last; the root itself at depth 1).
  const cas: Issued[] = [];
  caKeys.forEach((key, level) => {
    const name = level === 0 ? "UMS Lab Device Root CA" : level === caKeys.length - 1 ? "UMS Lab Device CA" : `UMS Lab Device Intermediate CA ${level}`;
    cas.push(issue(dn(name, "device-ca"), key, cas[level - 1], "ca", { validityDays: level === 0 ? 3650 : 1825 }));
  });
  const root = cas[0];
  const deviceCa = cas[cas.length - 1];
  /** What a device presents above its certificate: the device CA and the intermediates, issuing CA first, no root. */
  const deviceCaPresented = cas.slice(1).reverse();
  const webRoot = issue(dn("UMS Lab Web Root CA", "web"), keys.webRoot, undefined, "ca", { validityDays: 3650 });
  const serverNames = { dnsNames: [fqdn, "localhost"], ipAddresses: ["127.0.0.1"] };
  const web = issue(dn(fqdn, "web"), keys.web, webRoot, "server", serverNames);
  const icgName = `icg.${fqdn}`;
  const icg = issue(dn(icgName, "icg"), keys.icg, webRoot, "server", { dnsNames: [icgName, fqdn, "localhost"], ipAddresses: ["127.0.0.1"] });
  const umsClient = issue(dn(`ums-server.${fqdn}`, "ums"), keys.umsClient, webRoot, "client");

  const device = (kind: string) => dn(`lab-device-${kind}`, "devices");
  const good = issue(device("good"), keys.good, deviceCa, "client");
  const selfSigned = issue(device("self-signed"), keys.selfSigned, undefined, "client");
  const rogueRoot = issue(dn("Rogue Root CA", "not-ums"), keys.rogueRoot, undefined, "ca", { validityDays: 3650 });
  const otherCa = issue(device("other-ca"), keys.bad, rogueRoot, "client");
  const expired = issue(device("expired"), keys.bad, deviceCa, "client", { notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - DAY) });
  const notYetValid = issue(device("not-yet-valid"), keys.bad, deviceCa, "client", { notBefore: new Date(now + 365 * DAY), notAfter: new Date(now + 730 * DAY) });
  const revokedSerial = randomSerialHex();
  const revoked = issue(device("revoked"), keys.bad, deviceCa, "client", { serialHex: revokedSerial });
  const sub1 = issue(dn("UMS Lab Sub CA 1", "deep"), keys.sub1, deviceCa, "ca");
  const sub2 = issue(dn("UMS Lab Sub CA 2", "deep"), keys.sub2, sub1, "ca");
  const sub3 = issue(dn("UMS Lab Sub CA 3", "deep"), keys.sub3, sub2, "ca");
  const tooDeep = issue(device("too-deep"), keys.bad, sub3, "client");
  const v1 = issue(device("x509-v1"), keys.bad, deviceCa, "client", { version: 1 });
  const rsa1024 = issue(device("rsa-1024"), weakKey, deviceCa, "client");

  const crlPem = buildCrl({
    issuerCertificatePem: deviceCa.certPem,
    issuerPrivateKeyPem: deviceCa.keys.privateKeyPem,
    revoked: [{ serialHex: revokedSerial, revokedAt: new Date(now - 3_600_000) }],
  });

  fs.mkdirSync(dir, { recursive: true });
  const write = (rel: string, data: string) => writePublicFile(path.join(dir, rel), data);
  const writeKey = (rel: string, data: string) => writePrivateFile(path.join(dir, rel), data);
  const holder = (rel: string, leaf: Issued, presented: Issued[]): CertificateFiles => {
    write(`${rel}/cert.pem`, leaf.certPem);
    writeKey(`${rel}/key.pem`, leaf.keys.privateKeyPem);
    write(`${rel}/chain.pem`, [leaf, ...presented].map((c) => c.certPem).join(""));
    return { cert: `${rel}/cert.pem`, key: `${rel}/key.pem`, chain: `${rel}/chain.pem` };
  };

  write("ca/device-root.pem", root.certPem);
  write("ca/device-ca.pem", deviceCa.certPem);
  write("ca/device-ca-chain.pem", deviceCaPresented.map((c) => c.certPem).join(""));
  writeKey("ca/device-ca.key.pem", deviceCa.keys.privateKeyPem);
  write("ca/web-root.pem", webRoot.certPem);
  // As the UMS exports it: issuing CA first, up to the root.
  write("client-ca-chain.pem", [...cas].reverse().map((c) => c.certPem).join(""));
  write("crl.pem", crlPem);
  let webRootFile = "ca/web-root.pem";
  if (options.web) {
    // The administrator's own files, copied as they are; devices trust the top of their chain.
    const given = { key: fs.readFileSync(options.web.privateKey, "utf8"), body: fs.readFileSync(options.web.headOnlyBody, "utf8"), chain: fs.readFileSync(options.web.entireChain, "utf8") };
    writeKey("private_key.pem", given.key);
    write("headonly-body.pem", given.body);
    write("entire_chain.pem", given.chain);
    const chain = certificatesFromPem(given.chain);
    write("web/trusted-top.pem", (chain[chain.length - 1] ?? new X509Certificate(given.body)).toString());
    webRootFile = "web/trusted-top.pem";
  } else {
    writeKey("private_key.pem", web.keys.privateKeyPem);
    write("headonly-body.pem", web.certPem);
    write("entire_chain.pem", web.certPem + webRoot.certPem);
  }

  const relative: LabPki = {
    dir: ".",
    fqdn,
    createdAt: new Date(now).toISOString(),
    clientCaChain: "client-ca-chain.pem",
    deviceCa: { cert: "ca/device-ca.pem", key: "ca/device-ca.key.pem", chain: "ca/device-ca-chain.pem", rootCert: "ca/device-root.pem" },
    deviceCaShape: shape,
    crl: "crl.pem",
    web: { privateKey: "private_key.pem", headOnlyBody: "headonly-body.pem", entireChain: "entire_chain.pem", rootCert: webRootFile },
    webSource,
    gatewayCa: "ca/web-root.pem",
    icg: holder("icg", icg, [webRoot]),
    umsClient: holder("ums-client", umsClient, []),
    devices: {
      good: holder("devices/good", good, deviceCaPresented),
      "self-signed": holder("devices/self-signed", selfSigned, []),
      "other-ca": holder("devices/other-ca", otherCa, [rogueRoot]),
      expired: holder("devices/expired", expired, deviceCaPresented),
      "not-yet-valid": holder("devices/not-yet-valid", notYetValid, deviceCaPresented),
      revoked: holder("devices/revoked", revoked, deviceCaPresented),
      "too-deep": holder("devices/too-deep", tooDeep, [sub3, sub2, sub1, ...deviceCaPresented]),
      "x509-v1": holder("devices/x509-v1", v1, deviceCaPresented),
      "rsa-1024": holder("devices/rsa-1024", rsa1024, deviceCaPresented),
    },
    keyPool: "keys",
  };
  write(MANIFEST, JSON.stringify(relative, null, 2) + "\n");
  return loadLabPki(dir);
}

/** The files a config's `certificates.labPki` stands for (loadConfig's labPki provider): creates the PKI if missing. */
export async function labPkiCertificates(dir: string, fqdn: string): Promise<{ clientCaChain: string; crl: string; web: { privateKey: string; headOnlyBody: string; entireChain: string } }> {
  const pki = await initLabPki(dir, { fqdn });
  return { clientCaChain: pki.clientCaChain, crl: pki.crl, web: { privateKey: pki.web.privateKey, headOnlyBody: pki.web.headOnlyBody, entireChain: pki.web.entireChain } };
}

/** Reads a PEM chain file into certificates, leaf first. */
export function readChain(file: string): X509Certificate[] {
  return certificatesFromPem(fs.readFileSync(file, "utf8"));
}
