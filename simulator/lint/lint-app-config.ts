import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { parseAppConfig, AppConfig as UmsAppConfig } from "../../core/ums-app-config";
import { openStack, readStack, readStackOutputs } from "../terraform/read-stack";
import type { ListenerModel } from "../terraform/stack-model";
import { ProblemsError, UserError, formatProblem } from "../../core/errors";
import { HEALTH_CHECK_PATH } from "../../core/igel";
import { MTLS_HEADERS, MTLS_HEADER_DISPLAY, MtlsHeaderKey } from "../../core/aws-headers";
import type { Finding } from "../doctor/doctor";
import { heartbeatIdleFinding } from "../../core/heartbeat-idle";

/**
 * `ums-edge lint --stack DIR --app-config FILE`: does this UMS (or ICG) application.yml match this
 * synthesized stack? Each finding explains itself; the mistakes it catches are the ones that make
 * every device fail after a deployment (forwarding off, no URL_AWS, the other mode's header).
 */

interface StackFacts {
  readonly name: string;
  readonly backend: "ums" | "icg";
  /** The mTLS listener, if the stack has an ALB. */
  readonly mtls?: ListenerModel;
  readonly outputs: Readonly<Record<string, string>>;
  /** The load balancer's idle_timeout, if the stack has an ALB. */
  readonly idleTimeoutSeconds?: number;
}

export interface LintOptions {
  /** The devices' heartbeat interval the user states (IGEL does not publish OS 12's), seconds. */
  readonly heartbeatSeconds?: number;
}

function stackFacts(stackDir: string): StackFacts {
  const stack = openStack(stackDir);
  const outputs = readStackOutputs(stackDir);
  if (stack.resources("aws_lb").length === 0) return { name: path.basename(path.resolve(stackDir)), backend: "ums", outputs };
  const model = readStack(stackDir);
  const mtls = model.listeners.find((l) => l.mutualAuthentication.mode !== "off");
  const health = [...model.targetGroups.values()][0]?.healthCheck.path;
  return { name: model.name, backend: health === HEALTH_CHECK_PATH.icg ? "icg" : "ums", mtls, outputs, idleTimeoutSeconds: model.loadBalancer.idleTimeoutSeconds };
}

/** A header name as people write it: AWS's spelling for AWS's headers, the stack's (lower-cased) name for a renamed one. */
function display(header: string): string {
  const key = (Object.keys(MTLS_HEADERS) as MtlsHeaderKey[]).find((k) => MTLS_HEADERS[k] === header);
  return key ? MTLS_HEADER_DISPLAY[key] : header;
}

/** Parses the file for lint: YAML syntax errors are bad input (exit 2); setting problems become findings. */
function readAppConfig(file: string): { config?: UmsAppConfig; problems: string[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(`--app-config ${file}: cannot read it (${(e as NodeJS.ErrnoException).code})\n  fix: give the path of the UMS application.yml`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new UserError(`--app-config ${file}: not YAML: ${doc.errors[0].message.split("\n")[0]}\n  fix: give the UMS application.yml (YAML, indented with spaces)`);
  }
  try {
    return { config: parseAppConfig(text, file), problems: [] };
  } catch (e) {
    if (e instanceof ProblemsError) return { problems: e.problems.map((p) => formatProblem(p).replace(/\n\s+/, " — ")) };
    throw e;
  }
}

export function lintAppConfig(stackDir: string, appConfigFile: string, options: LintOptions = {}): Finding[] {
  const stack = stackFacts(stackDir);
  const { config, problems } = readAppConfig(appConfigFile);
  const findings: Finding[] = problems.map((p) => ({ check: "application.yml", status: "fail" as const, detail: p }));
  const add = (check: string, status: Finding["status"], detail: string) => findings.push({ check, status, detail });
  const server = stack.backend.toUpperCase();

  if (config) {
    for (const w of config.warnings) add("application.yml", "warn", w);
    const f = config.forwarding;
    if (!stack.mtls) {
      add(
        "forwarding",
        f.enabled ? "fail" : "pass",
        f.enabled
          ? `'${stack.name}' has no load balancer: devices present their certificates to the ${server} itself, but forwarding is on, so it reads '${f.header}' instead and refuses every device. Set enabled: false.`
          : "off, as a server reached directly must be: identity comes from the TLS peer certificate",
      );
    } else {
      const mode = stack.mtls.mutualAuthentication.mode;
      const expectedName = mode === "verify" ? stack.mtls.headerNames.leaf : stack.mtls.headerNames.clientcert;
      const expected = display(expectedName);
      const other = mode === "verify" ? stack.mtls.headerNames.clientcert : stack.mtls.headerNames.leaf;
      if (!f.enabled) {
        add("forwarding", "fail", `off, but '${stack.name}' terminates TLS at the ALB (mTLS ${mode}): the ${server} never sees a device certificate. Set enabled: true.`);
      } else {
        add("forwarding", "pass", `on (the ALB terminates TLS, mTLS ${mode})`);
        add(
          "encodingType",
          f.encodingType === "URL_AWS" ? "pass" : "fail",
          f.encodingType === "URL_AWS" ? "URL_AWS: decodes the ALB's URL-encoded PEM" : "not URL_AWS: the ALB URL-encodes the PEM, so the certificate cannot be decoded. Set encodingType: URL_AWS.",
        );
        const actual = f.header.toLowerCase();
        add(
          "forwarded header",
          actual === expectedName ? "pass" : "fail",
          actual === expectedName
            ? `${f.header}: what the ${mode} listener sends`
            : actual === other
              ? `'${f.header}' is the ${mode === "verify" ? "passthrough" : "verify"} header; a ${mode} listener sends '${expected}'${mode === "verify" ? " (the leaf only)" : " (the whole chain)"}. Set client-cert-forwarded-header to it.`
              : `'${f.header}' is not sent by this stack's ${mode} listener, which sends '${expected}'. Set client-cert-forwarded-header to it.`,
        );
      }
    }
  }

  if (stack.idleTimeoutSeconds !== undefined) add(...idleTimeoutFinding(stack, options.heartbeatSeconds));

  const cluster = stack.outputs.cluster_address;
  if (cluster) {
    const note = stack.backend === "icg" ? " (needed only where a UMS, not only ICGs, is behind the ALB)" : "";
    add("cluster address", "info", `UMS Administration > Global Configuration > Server Network Settings > Cluster Address: ${cluster}${note}`);
  }
  if (stack.mtls?.mutualAuthentication.mode === "verify") {
    add("enrollment address", "info", `OS 12 device enrollment address: ${stack.outputs.device_enrollment_address ?? "the 443 listener"} (devices have no certificate yet, and 8443 requires one)`);
  } else if (stack.mtls) {
    add("enrollment address", "info", "not required: onboarding works on the single passthrough listener");
  }
  return findings;
}

/** The heartbeat rule (core/heartbeat-idle.ts) against the stack's idle_timeout. */
function idleTimeoutFinding(stack: StackFacts, heartbeatSeconds: number | undefined): [string, Finding["status"], string] {
  const idle = stack.idleTimeoutSeconds!;
  if (heartbeatSeconds === undefined) {
    return ["idle timeout", "info", `${idle} s: devices must send something (a heartbeat) more often than that, or the ALB cuts their WebSockets; give --heartbeat-seconds to check`];
  }
  const finding = heartbeatIdleFinding(idle, heartbeatSeconds, {
    subject: `the '${stack.name}' load balancer (aws_lb idle_timeout)`,
    heartbeatSource: "--heartbeat-seconds",
    idleField: "loadBalancer.idleTimeoutSeconds of this stack in the config (aws_lb idle_timeout)",
  });
  return finding
    ? ["idle timeout", "warn", `${finding.problem}. Fix: ${finding.fix}.`]
    : ["idle timeout", "pass", `${idle} s, above the ${heartbeatSeconds} s heartbeat: quiet device WebSockets stay open`];
}
