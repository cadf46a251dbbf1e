import * as fs from "node:fs";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { generateRsaKeyPair, KeyPairPem } from "./keys";
import { issueCertificate, randomSerialHex, CertificateRequest, DistinguishedName } from "./certificates";
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
  "wrong-purpose",
  "non-ca-issuer",
  "sha1-signed",
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
  /** The CA that signs device certificates at onboarding (the UMS's own). */
  readonly deviceCa: { readonly cert: string; readonly key: string; readonly rootCert: string };
  /** CRL of the device CA listing the `revoked` test device. */
  readonly crl: string;
  /** The UMS web certificate as the IGEL guide exports it from the keystore. */
  readonly web: { readonly privateKey: string; readonly headOnlyBody: string; readonly entireChain: string; readonly rootCert: string };
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

export interface InitLabPkiOptions {
  readonly fqdn?: string;
  /** Regenerate even when a usable PKI is already there. @default false */
  readonly force?: boolean;
}

/** Bumped when the PKI gains or changes certificates: an older PKI on disk is regenerated. */
const FORMAT = 2;
/** The CRL outlives every reuse of the PKI, so a reused PKI never holds a stale CRL. */
const CRL_DAYS = 2 * REUSE_DAYS + 30;

/** Loads the PKI in `dir`; throws if there is none. */
export function loadLabPki(dir: string): LabPki {
  const file = path.join(dir, MANIFEST);
  if (!fs.existsSync(file)) throw new Error(`no lab PKI in ${dir} (missing ${MANIFEST}); run 'ums-edge pki init --dir ${dir}'`);
  const relative = JSON.parse(fs.readFileSync(file, "utf8")) as LabPki;
  return { ...(resolvePaths(relative, path.resolve(dir)) as LabPki), dir: path.resolve(dir) };
}

function resolvePaths(value: unknown, dir: string, key = ""): unknown {
  if (typeof value === "string") {
    return ["fqdn", "createdAt", "dir"].includes(key) ? value : path.join(dir, value);
  }
  if (typeof value === "number") {
    return value;
  }
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolvePaths(v, dir, k)]));
  }
  return value;
}

function usable(dir: string, fqdn: string): boolean {
  try {
    const pki = loadLabPki(dir) as LabPki & { format?: number };
    const fresh = pki.format === FORMAT && Date.now() - Date.parse(pki.createdAt) < REUSE_DAYS * DAY;
    const files = [pki.clientCaChain, pki.crl, pki.web.privateKey, pki.icg.key, ...Object.values(pki.devices).map((d) => d.key)];
    return pki.fqdn === fqdn && fresh && files.every((f) => fs.existsSync(f));
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
  if (!options.force && usable(dir, fqdn)) return loadLabPki(dir);

  // Keys first, all at once: generation dominates and runs in parallel on the thread pool.
  const names = ["root", "deviceCa", "webRoot", "web", "icg", "umsClient", "rogueRoot", "sub1", "sub2", "sub3", "sub4", "nonCaIssuer", "good", "selfSigned", "bad"] as const;
  const generated = await Promise.all(names.map(() => generateRsaKeyPair(2048)));
  const keys = Object.fromEntries(names.map((n, i) => [n, generated[i]])) as Record<(typeof names)[number], KeyPairPem>;
  const weakKey = await generateRsaKeyPair(1024);

  const now = Date.now();
  const dn = (commonName: string, organizationalUnit: string): DistinguishedName => ({ commonName, organization: ORG, organizationalUnit });
  const issue = (
    subject: DistinguishedName,
    subjectKeys: KeyPairPem,
    issuer: Issued | undefined,
    profile: "ca" | "client" | "server" | "server-and-client",
    extra: Partial<Pick<CertificateRequest, "notBefore" | "notAfter" | "validityDays" | "dnsNames" | "ipAddresses" | "version" | "serialHex" | "overrides" | "signatureHash">> = {},
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

  const root = issue(dn("UMS Lab Device Root CA", "device-ca"), keys.root, undefined, "ca", { validityDays: 3650 });
  const deviceCa = issue(dn("UMS Lab Device CA", "device-ca"), keys.deviceCa, root, "ca", { validityDays: 1825 });
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
  const sub4 = issue(dn("UMS Lab Sub CA 4", "deep"), keys.sub4, sub3, "ca");
  // Five CAs between the device and the root: too deep whichever certificates count toward AWS's
  // "maximum chain depth 4" (all of the path: 7; presented: 6; intermediates: 5).
  const tooDeep = issue(device("too-deep"), keys.bad, sub4, "client");
  const v1 = issue(device("x509-v1"), keys.bad, deviceCa, "client", { version: 1 });
  const rsa1024 = issue(device("rsa-1024"), weakKey, deviceCa, "client");
  // Issued by the device CA, but for servers only (extendedKeyUsage serverAuth, no clientAuth).
  const wrongPurpose = issue(device("wrong-purpose"), keys.bad, deviceCa, "server");
  // An ordinary device certificate (CA:FALSE, no keyCertSign) used to sign another one.
  const nonCaIssuer = issue(dn("UMS Lab Device Not A CA", "devices"), keys.nonCaIssuer, deviceCa, "client");
  const underNonCa = issue(device("non-ca-issuer"), keys.bad, nonCaIssuer, "client");
  const sha1Signed = issue(device("sha1-signed"), keys.bad, deviceCa, "client", { signatureHash: "sha1" });

  const crlPem = buildCrl({
    issuerCertificatePem: deviceCa.certPem,
    issuerPrivateKeyPem: deviceCa.keys.privateKeyPem,
    revoked: [{ serialHex: revokedSerial, revokedAt: new Date(now - 3_600_000) }],
    thisUpdate: new Date(now - 3_600_000),
    nextUpdate: new Date(now + CRL_DAYS * DAY),
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
  writeKey("ca/device-ca.key.pem", deviceCa.keys.privateKeyPem);
  write("ca/web-root.pem", webRoot.certPem);
  write("client-ca-chain.pem", deviceCa.certPem + root.certPem);
  write("crl.pem", crlPem);
  writeKey("private_key.pem", web.keys.privateKeyPem);
  write("headonly-body.pem", web.certPem);
  write("entire_chain.pem", web.certPem + webRoot.certPem);

  const relative: LabPki & { format: number } = {
    format: FORMAT,
    dir: ".",
    fqdn,
    createdAt: new Date(now).toISOString(),
    clientCaChain: "client-ca-chain.pem",
    deviceCa: { cert: "ca/device-ca.pem", key: "ca/device-ca.key.pem", rootCert: "ca/device-root.pem" },
    crl: "crl.pem",
    web: { privateKey: "private_key.pem", headOnlyBody: "headonly-body.pem", entireChain: "entire_chain.pem", rootCert: "ca/web-root.pem" },
    icg: holder("icg", icg, [webRoot]),
    umsClient: holder("ums-client", umsClient, []),
    devices: {
      good: holder("devices/good", good, [deviceCa]),
      "self-signed": holder("devices/self-signed", selfSigned, []),
      "other-ca": holder("devices/other-ca", otherCa, [rogueRoot]),
      expired: holder("devices/expired", expired, [deviceCa]),
      "not-yet-valid": holder("devices/not-yet-valid", notYetValid, [deviceCa]),
      revoked: holder("devices/revoked", revoked, [deviceCa]),
      "too-deep": holder("devices/too-deep", tooDeep, [sub4, sub3, sub2, sub1, deviceCa]),
      "x509-v1": holder("devices/x509-v1", v1, [deviceCa]),
      "rsa-1024": holder("devices/rsa-1024", rsa1024, [deviceCa]),
      "wrong-purpose": holder("devices/wrong-purpose", wrongPurpose, [deviceCa]),
      "non-ca-issuer": holder("devices/non-ca-issuer", underNonCa, [nonCaIssuer, deviceCa]),
      "sha1-signed": holder("devices/sha1-signed", sha1Signed, [deviceCa]),
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
