import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { Construct } from "constructs";
import { AssetType, Fn, TerraformAsset } from "cdktf";
import { AcmCertificate } from "./aws";
import { pemBlocks } from "../core/pem";

export interface WebCertificateFiles {
  /** Unencrypted PEM private key (`private_key.pem` in the IGEL guide). */
  readonly privateKey: string;
  /** The certificate alone ("Export length: Head only", `headonly-body.pem`). */
  readonly headOnlyBody: string;
  /** The whole chain ("Export length: Entire chain", `entire_chain.pem`). */
  readonly entireChain: string;
}

export interface WebCertificateProps {
  /** Import these files into ACM. Exactly one of `files` and `existingArn`. */
  readonly files?: WebCertificateFiles;
  /** Use a certificate already in ACM. */
  readonly existingArn?: string;
  /** Name tag of the imported certificate. @default none */
  readonly name?: string;
}

/**
 * The UMS web certificate in ACM. The files become Terraform assets read with file(), so the private
 * key is never written inline into the synthesized JSON.
 */
export class WebCertificate extends Construct {
  readonly certificateArn: string;

  constructor(scope: Construct, id: string, props: WebCertificateProps) {
    super(scope, id);
    if (!props.files === !props.existingArn) throw new Error("WebCertificate: set exactly one of 'files' and 'existingArn'");
    if (props.existingArn) {
      this.certificateArn = props.existingArn;
      return;
    }
    const files = props.files!;
    const asset = (name: string, file: string) => new TerraformAsset(this, name, { path: file, type: AssetType.FILE }).path;
    const chain = chainWithoutLeaf(files.entireChain);
    const certificate = new AcmCertificate(this, "certificate", {
      privateKey: Fn.file(asset("private-key", files.privateKey)),
      certificateBody: Fn.file(asset("body", files.headOnlyBody)),
      certificateChain: chain ? Fn.file(asset("chain", chain)) : undefined,
      tags: props.name ? { Name: props.name } : undefined,
      lifecycle: { createBeforeDestroy: true },
    });
    this.certificateArn = certificate.arn;
  }
}

/**
 * ACM wants the chain without the end-entity certificate ("Do not include your end-entity
 * certificate in the intermediate certificate chain"), while the IGEL guide's "Entire chain" export
 * starts with it. Writes the chain minus its head to a file for the asset; undefined if nothing is left.
 */
function chainWithoutLeaf(entireChainFile: string): string | undefined {
  const rest = pemBlocks(fs.readFileSync(entireChainFile, "utf8"))
    .filter((b) => b.label === "CERTIFICATE")
    .slice(1)
    .map((b) => b.pem)
    .join("");
  if (!rest) return undefined;
  const dir = path.join(os.tmpdir(), "ums-edge-synth");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `acm-chain-${createHash("sha256").update(rest).digest("hex").slice(0, 16)}.pem`);
  fs.writeFileSync(file, rest);
  return file;
}
