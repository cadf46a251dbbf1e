import type { ActionModel, ConditionModel, ListenerModel, RuleModel } from "../terraform/stack-model";

/**
 * Listener rule evaluation: rules in ascending priority, the first whose conditions all match
 * decides; otherwise the default action. Each decision carries an explanation in words, so a
 * refusal can say which rule refused the request and why.
 */

export interface RequestFacts {
  readonly method: string;
  /** The request target as sent (path and query). */
  readonly url: string;
  readonly host?: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface Decision {
  /** The action that answers the request (the last action of the rule or default action list). */
  readonly action: ActionModel;
  /** Access-log matched_rule_priority: the rule's priority, 0 for the default action. */
  readonly priority: number;
  /** The rule or listener that decided. */
  readonly decidedBy: string;
  readonly explanation: string;
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
      const res = c.values.map((v) => wildcard(v, "")); // path patterns are case-sensitive
      return { match: (_r, path) => res.some((re) => re.test(path)), describe: `path is one of ${c.values.join(", ")}` };
    }
    case "host-header": {
      const res = c.values.map((v) => wildcard(v, "i"));
      return { match: (r) => r.host !== undefined && res.some((re) => re.test(r.host!.replace(/:\d+$/, ""))), describe: `host is one of ${c.values.join(", ")}` };
    }
    case "http-request-method":
      return { match: (r) => c.values.includes(r.method), describe: `method is one of ${c.values.join(", ")}` };
    case "http-header": {
      const res = c.values.map((v) => wildcard(v, "i"));
      return {
        match: (r) => {
          const v = r.headers[c.name];
          const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
          return values.some((x) => res.some((re) => re.test(x)));
        },
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
  readonly action: ActionModel;
}

export class ListenerRules {
  private readonly rules: readonly CompiledRule[];
  private readonly defaultAction: ActionModel;
  private readonly listenerAddress: string;

  constructor(listener: ListenerModel) {
    this.listenerAddress = listener.address;
    this.rules = listener.rules.map((rule) => ({ rule, conditions: rule.conditions.map(compileCondition), action: rule.actions[rule.actions.length - 1] }));
    this.defaultAction = listener.defaultActions[listener.defaultActions.length - 1];
  }

  evaluate(r: RequestFacts): Decision {
    const q = r.url.indexOf("?");
    const path = q < 0 ? r.url : r.url.slice(0, q);
    const misses: string[] = [];
    for (const c of this.rules) {
      const failed = c.conditions.find((cond) => !cond.match(r, path));
      if (!failed) {
        return { action: c.action, priority: c.rule.priority, decidedBy: c.rule.address, explanation: `rule ${c.rule.address} (priority ${c.rule.priority}) matched: ${describeAction(c.action)}` };
      }
      misses.push(`rule ${c.rule.address} (priority ${c.rule.priority}) did not match: ${failed.describe}`);
    }
    const why = misses.length > 0 ? `no rule matched ${r.method} ${path} (${misses.join("; ")})` : "the listener has no rules";
    return { action: this.defaultAction, priority: 0, decidedBy: this.listenerAddress, explanation: `${why}; default action of ${this.listenerAddress}: ${describeAction(this.defaultAction)}` };
  }
}
