import { Construct, LbListenerRule } from "./aws";
import { ALLOWED_PATH_PATTERNS } from "../core/igel";
import { propsChecker } from "./props-error";

/**
 * AWS's limits on listener rules. ELB user guide, "Listener rules for your Application Load
 * Balancer" > "Condition types": up to three match evaluations per condition and five per rule;
 * "Quotas for your Application Load Balancers" > Rules: 5 condition values, 5 condition wildcards
 * and 5 match evaluations per rule, 100 rules per load balancer; "Path conditions": a path pattern
 * is at most 128 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & and the wildcards * and ?
 * (so a percent sign or a backslash cannot be written in a path pattern; regular expressions,
 * `regex_values`, can: PathPatternConditionConfig, 128 characters each).
 */
export const LISTENER_RULE_LIMITS = { valuesPerCondition: 3, valuesPerRule: 5, wildcardsPerRule: 5, valueLength: 128, rulesPerLoadBalancer: 100 } as const;
const PATH_PATTERN = /^[A-Za-z0-9_\-.$/~"'@:+&*?]+$/;

/**
 * Traversal spellings refused ahead of the allow-list, whatever the backend normalises: a servlet
 * container (the UMS) resolves dot segments and decodes `%2e`, so `/device-connector/../umsapi/`
 * would reach the IMI API past a prefix rule. AWS does not document any normalisation of the path
 * before rules match (assumption `alb-path-not-normalised` in the report), so the rules catch both
 * the raw and any decoded form:
 * - `*..*` (a path pattern): any `..`, which covers `/..`, `/../`, `..\`, `..;`, `..%2f`;
 * - one regular expression for what a path pattern cannot spell: `%2e`/`%2E` in any position
 *   (`%2e%2e`, `.%2e`, `%2e.`), an encoded backslash `%5c`/`%5C`, a raw backslash, a double
 *   encoding `%25..`, and the overlong UTF-8 leads `%c0`/`%c1` (`%c0%ae`). IGEL's device and web-app
 *   paths contain none of these. Anchored with `.*` on both sides, it matches whether AWS compares
 *   regular expressions against the whole path or searches within it.
 */
export const TRAVERSAL_DENY_PATTERNS: readonly string[] = ["*..*"];
export const TRAVERSAL_DENY_REGEX: readonly string[] = ["^.*(%2[eE]|%5[cC]|%25|%[cC][01]|\\\\).*$"];

export interface PathAllowListProps {
  /** The listener the rules belong to. */
  readonly listenerArn: string;
  /** Where requests on an allowed path go. */
  readonly targetGroupArn: string;
  /**
   * Path patterns (ALB syntax: `*` any characters, `?` one) that are forwarded.
   * @default IGEL's four: /device-connector/*, /ums-appproxy/*, /wums-app/*, /webapp/* (core/igel.ts)
   */
  readonly allowedPatterns?: readonly string[];
  /** Answer dot-segment and encoded traversal spellings with a fixed 400 ahead of the allow-list. @default true */
  readonly denyTraversal?: boolean;
}

/**
 * Deny rules take priorities from 2 (1 is the front's refusal of a client's own certificate header on
 * a listener without mTLS), allow rules from 10: room for more deny rules, stable numbers in logs.
 */
const DENY_PRIORITY = 2;
const ALLOW_PRIORITY = 10;

type RuleAction = Extract<ConstructorParameters<typeof LbListenerRule>[2]["action"], readonly unknown[]>[number];

const BAD_REQUEST: RuleAction = { type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "400", messageBody: "Bad Request" } };

/** Prop checks in the words of the construct's fields. */
export function validatePathAllowListProps(props: PathAllowListProps): void {
  const { check } = propsChecker("PathAllowList");
  const patterns = props.allowedPatterns ?? ALLOWED_PATH_PATTERNS;
  check(patterns.length > 0, "allowedPatterns", "'allowedPatterns' is empty; give at least one path pattern (or leave the allow-list off)");
  for (const p of patterns) {
    check(p.length <= LISTENER_RULE_LIMITS.valueLength, "allowedPatterns", `'allowedPatterns' value '${p.slice(0, 20)}...' is ${p.length} characters; AWS allows at most ${LISTENER_RULE_LIMITS.valueLength}`);
    check(p.startsWith("/") && PATH_PATTERN.test(p), "allowedPatterns", `'allowedPatterns' value '${p}' is not an ALB path pattern (a '/' then A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?)`);
    check(wildcards(p) <= LISTENER_RULE_LIMITS.wildcardsPerRule, "allowedPatterns", `'allowedPatterns' value '${p}' has ${wildcards(p)} wildcards; AWS allows at most ${LISTENER_RULE_LIMITS.wildcardsPerRule} per rule`);
  }
}

function wildcards(pattern: string): number {
  return (pattern.match(/[*?]/g) ?? []).length;
}

/**
 * Splits path patterns into rule-sized groups: at most three values per condition, and as many
 * wildcards as fit AWS's five per rule.
 */
export function groupPatterns(patterns: readonly string[]): string[][] {
  const groups: string[][] = [];
  for (const p of patterns) {
    const last = groups[groups.length - 1];
    const fits = last && last.length < LISTENER_RULE_LIMITS.valuesPerCondition && last.reduce((n, q) => n + wildcards(q), 0) + wildcards(p) <= LISTENER_RULE_LIMITS.wildcardsPerRule;
    if (fits) last.push(p);
    else groups.push([p]);
  }
  return groups;
}

/**
 * A listener's path allow-list as listener rules: traversal spellings answered 400 first, then the
 * allowed patterns forwarded; everything else falls through to the listener's default action (the
 * front's fixed 404).
 */
export class PathAllowList extends Construct {
  /** The rules in priority order. */
  readonly rules: readonly LbListenerRule[];

  constructor(scope: Construct, id: string, props: PathAllowListProps) {
    super(scope, id);
    validatePathAllowListProps(props);
    const rules: LbListenerRule[] = [];
    const rule = (name: string, priority: number, pathPattern: { values?: string[]; regexValues?: string[] }, action: RuleAction) =>
      rules.push(new LbListenerRule(this, name, { listenerArn: props.listenerArn, priority, condition: [{ pathPattern }], action: [action] }));
    if (props.denyTraversal ?? true) {
      rule("deny-dot-segments", DENY_PRIORITY, { values: [...TRAVERSAL_DENY_PATTERNS] }, BAD_REQUEST);
      rule("deny-encoded-traversal", DENY_PRIORITY + 1, { regexValues: [...TRAVERSAL_DENY_REGEX] }, BAD_REQUEST);
    }
    const forward: RuleAction = { type: "forward", targetGroupArn: props.targetGroupArn };
    groupPatterns(props.allowedPatterns ?? ALLOWED_PATH_PATTERNS).forEach((values, i) => rule(i === 0 ? "allow" : `allow-${i + 1}`, ALLOW_PRIORITY + i, { values }, forward));
    this.rules = rules;
  }
}
