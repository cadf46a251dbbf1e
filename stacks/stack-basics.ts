import { AwsProvider, Construct } from "./aws";

/** What every stack shares: the provider with ums-edge's default tags. */

export interface ProviderProps {
  /** The AWS region of every resource of the stack. */
  readonly region: string;
  /** Tags on every resource of the stack. */
  readonly tags: Readonly<Record<string, string>>;
}

export function addProvider(stack: Construct, props: ProviderProps): void {
  new AwsProvider(stack, "aws", { region: props.region, defaultTags: [{ tags: { ...props.tags } }] });
}
