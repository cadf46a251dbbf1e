import type { ActionModel, ConditionModel, ListenerModel, RuleModel, TransformModel } from "../terraform/stack-model";

/**
 * Listener rule evaluation: rules in ascending priority, the first whose conditions all match
 * decides; otherwise the default action. Each decision carries an explanation in words, so a
 * refusal can say which rule refused the request and why. A rule's decision is built once; the
 * default action's explanation (which names every rule that missed) only when it is read.
 *
 * AWS, ELB user guide, "Listener rules" / "Condition types for listener rules": a rule matches
 * when all its conditions do, a condition when any of its values does; path patterns are
 * case-sensitive, `*` matches 0 or more characters and `?` exactly one, and apply "only to the
 * path of the URL, not to its query parameters"; "The path pattern is used to route requests but
 * does not alter them". AWS documents no normalisation of the path before matching (no dot
 * segments resolved, no percent-decoding), so the path is matched as the client sent it
 * (assumption `alb-path-not-normalised`). Path conditions may instead hold regular expressions
 * (PathPatternConditionConfig RegexValues; `regex_values` in the AWS provider from 6.22): a value
 * matches when the expression matches the path (anywhere, unless anchored: assumption
 * `alb-regex-conditions`). A rule's transforms ("Transforms for listener rules") rewrite the
 * forwarded request after the decision: "Rewriting a request does not change the routing decision".
 */

export interface RequestFacts {
  readonly method: string;
  /** The request target as sent (path and query). */
  readonly url: string;
  readonly host?: string;
  /** Values of a header (lower-case name), in order. */
  header(lowerName: string): readonly string[];
}

export interface Decision {
  /** The action that answers the request (the last action of the rule or default action list). */
  readonly action: ActionModel;
  /** Access-log matched_rule_priority: the rule's priority, 0 for the default action. */
  readonly priority: number;
  /** The rule or listener that decided. */
  readonly decidedBy: string;
  readonly explanation: string;
  /** The matching rule's transforms (none for the default action). */
  readonly transforms?: readonly TransformModel[];
}

/** ALB wildcard syntax: `*` any characters, `?` exactly one. */
function wildcard(pattern: string, flags: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, flags);
}

type Matcher = (r: RequestFacts, path: string) => boolean;

function compileCondition(c: ConditionModel): { match: Matcher; describe: string } {
  switch (c.kind) {
    case "path-pattern": {
      // Path patterns are case-sensitive; regular expressions as written (compiled once, checked at read time).
      const res = [...c.values.map((v) => wildcard(v, "")), ...(c.regexValues ?? []).map((v) => new RegExp(v))];
      const described = [...c.values, ...(c.regexValues ?? []).map((v) => `regex ${v}`)];
      return { match: (_r, path) => res.some((re) => re.test(path)), describe: `path is one of ${described.join(", ")}` };
    }
    case "host-header": {
      const res = c.values.map((v) => wildcard(v, "i"));
      return { match: (r) => r.host !== undefined && res.some((re) => re.test(r.host!.replace(/:\d+$/, ""))), describe: `host is one of ${c.values.join(", ")}` };
    }
    case "http-request-method":
      return { match: (r) => c.values.includes(r.method), describe: `method is one of ${c.values.join(", ")}` };
    case "http-header": {
      const res = c.values.map((v) => wildcard(v, "i"));
      const name = c.name.toLowerCase();
      return {
        match: (r) => r.header(name).some((x) => res.some((re) => re.test(x))),
        describe: `header ${c.name} is one of ${c.values.join(", ")}`,
      };
    }
  }
}

function describeAction(a: ActionModel): string {
  return a.type === "forward" ? `forward to ${a.targetGroup}` : `fixed-response ${a.statusCode}`;
}

interface CompiledRule {
  readonly rule: RuleModel;
  readonly conditions: ReadonlyArray<{ match: Matcher; describe: string }>;
  /** The decision when the rule matches. */
  readonly decision: Decision;
}

function matches(c: CompiledRule, r: RequestFacts, path: string): boolean {
  for (const cond of c.conditions) if (!cond.match(r, path)) return false;
  return true;
}

/** The default action's decision; the explanation lists the rules that missed, built when read. */
class DefaultDecision implements Decision {
  readonly priority = 0;
  private text?: string;

  constructor(
    readonly action: ActionModel,
    readonly decidedBy: string,
    private readonly rules: readonly CompiledRule[],
    private readonly request: RequestFacts,
    private readonly path: string,
  ) {}

  get explanation(): string {
    if (this.text === undefined) {
      const misses = this.rules.map((c) => `rule ${c.rule.address} (priority ${c.rule.priority}) did not match: ${c.conditions.find((cond) => !cond.match(this.request, this.path))!.describe}`);
      const why = misses.length > 0 ? `no rule matched ${this.request.method} ${this.path} (${misses.join("; ")})` : "the listener has no rules";
      this.text = `${why}; default action of ${this.decidedBy}: ${describeAction(this.action)}`;
    }
    return this.text;
  }
}

export class ListenerRules {
  private readonly rules: readonly CompiledRule[];
  private readonly defaultAction: ActionModel;
  private readonly listenerAddress: string;

  constructor(listener: ListenerModel) {
    this.listenerAddress = listener.address;
    this.rules = listener.rules.map((rule) => {
      const action = rule.actions[rule.actions.length - 1];
      const decision: Decision = { action, priority: rule.priority, decidedBy: rule.address, explanation: `rule ${rule.address} (priority ${rule.priority}) matched: ${describeAction(action)}`, transforms: rule.transforms };
      return { rule, conditions: rule.conditions.map(compileCondition), decision };
    });
    this.defaultAction = listener.defaultActions[listener.defaultActions.length - 1];
  }

  evaluate(r: RequestFacts): Decision {
    const path = pathOf(r.url);
    for (const c of this.rules) if (matches(c, r, path)) return c.decision;
    return new DefaultDecision(this.defaultAction, this.listenerAddress, this.rules, r, path);
  }
}

const ABSOLUTE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/;

/** The path of a request target: before the query; for an absolute target, after the authority. */
export function pathOf(target: string): string {
  const abs = ABSOLUTE.exec(target);
  const rest = abs ? target.slice(abs[0].length) || "/" : target;
  const q = rest.indexOf("?");
  return q < 0 ? rest : rest.slice(0, q);
}

/** What a rule's transforms make of the forwarded request: a new target and Host, where one matched. */
export interface TransformedRequest {
  readonly target?: string;
  readonly host?: string;
}

/**
 * Applies a rule's transforms. AWS, "Transforms for listener rules": url-rewrite matches a regular
 * expression against the request URL and replaces the match; host-header-rewrite does the same on
 * the Host header; "If there is no pattern match, the original request is sent to the target."
 */
export function applyTransforms(transforms: readonly TransformModel[] | undefined, target: string, host: string | undefined): TransformedRequest {
  const out: { target?: string; host?: string } = {};
  for (const t of transforms ?? []) {
    const re = new RegExp(t.regex);
    if (t.kind === "url-rewrite" && re.test(target)) out.target = target.replace(re, t.replace);
    if (t.kind === "host-header-rewrite" && host !== undefined && re.test(host)) out.host = host.replace(re, t.replace);
  }
  return out;
}
