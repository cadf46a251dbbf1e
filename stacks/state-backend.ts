import { LocalBackend, S3Backend, TerraformStack } from "./aws";

export interface S3StateOptions {
  /** The bucket holding the state (versioned, encrypted, private: README, "Terraform state"). */
  readonly bucket: string;
  /** Key prefix; the stack's state is `<key>/<stack>.tfstate`. */
  readonly key: string;
  /** The bucket's region. */
  readonly region: string;
}

export interface StateBackendProps {
  /** Remote state in S3, encrypted, with S3's own lock file (Terraform >= 1.10 `use_lockfile`). @default none: local state */
  readonly s3?: S3StateOptions;
}

/**
 * Where the stack's Terraform state lives. Local state is a path relative to the stack directory
 * (`<out>/stacks/<stack>/`, where both `cdktf deploy` and `terraform apply` run), pointing beside the
 * synth output directory: the JSON carries no path of the machine that synthesized it, and neither
 * a re-synth (cdktf removes stack directories it no longer writes) nor deleting the output directory
 * takes the state with it. The state holds the web certificate's private key in clear (README).
 */
export function addStateBackend(stack: TerraformStack, stackName: string, props: StateBackendProps = {}): void {
  if (props.s3) {
    new S3Backend(stack, { bucket: props.s3.bucket, key: `${props.s3.key}/${stackName}.tfstate`, region: props.s3.region, encrypt: true });
    // S3-native locking (Terraform S3 backend `use_lockfile`); cdktf 0.21's S3Backend has no field for it.
    stack.addOverride("terraform.backend.s3.use_lockfile", true);
  } else {
    new LocalBackend(stack, { path: `../../../terraform.${stackName}.tfstate` });
  }
}
