import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadAppConfig, parseAppConfig } from "../../core/ums-app-config";
import { MockUms } from "../../simulator/ums";
import { ProblemsError } from "../../core/errors";
import { testLabPki } from "../helpers/lab-pki";

const FILE = "application.yml";
const HEADING = "application.yml: the UMS application.yml is not usable; the mock UMS did not start";
const HEADER_FIX = "set it to 'X-Amzn-Mtls-Clientcert-Leaf' behind an ALB in verify mode, 'X-Amzn-Mtls-Clientcert' in passthrough mode";
/** The message of what `fn` throws, so tests compare whole messages, not substrings. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a throw");
}
const block = (lines: string) => `igel:\n  client-cert-forwarding:\n${lines.replace(/^/gm, "    ")}\n`;

describe("the application.yml the IGEL guide gives", () => {
  test.each([
    ["verify", "X-Amzn-Mtls-Clientcert-Leaf"],
    ["passthrough", "X-Amzn-Mtls-Clientcert"],
  ])("%s: forwarding on, URL_AWS, header %s", (_mode, header) => {
    const text = `igel:\n  client-cert-forwarding:\n    enabled: true\n    encodingType: URL_AWS \n    client-cert-forwarded-header: ${header}\n`;
    expect(parseAppConfig(text, FILE)).toEqual({ file: FILE, forwarding: { enabled: true, encodingType: "URL_AWS", header }, warnings: [] });
  });

  test.each([
    ["an empty file", ""],
    ["a file with other settings only", "server:\n  port: 8443\nlogging:\n  level: INFO\n"],
    ["forwarding disabled", block("enabled: false\nencodingType: URL_AWS")],
  ])("%s: forwarding off", (_what, text) => {
    expect(parseAppConfig(text, FILE)).toEqual({ file: FILE, forwarding: { enabled: false }, warnings: [] });
  });

  test("Spring's relaxed binding: camelCase keys and 'yes' as a boolean", () => {
    const text = block("enabled: 'yes'\nencoding-type: URL_AWS\nclientCertForwardedHeader: X-Amzn-Mtls-Clientcert");
    expect(parseAppConfig(text, FILE).forwarding).toEqual({ enabled: true, encodingType: "URL_AWS", header: "X-Amzn-Mtls-Clientcert" });
  });
});

describe("settings that start the UMS with a warning, because devices will fail", () => {
  test("forwarding enabled without encodingType: the header is read as a plain PEM", () => {
    const config = parseAppConfig(block("enabled: true\nclient-cert-forwarded-header: X-Amzn-Mtls-Clientcert-Leaf"), FILE);
    expect(config.forwarding).toEqual({ enabled: true, header: "X-Amzn-Mtls-Clientcert-Leaf", encodingType: undefined });
    expect(config.warnings).toEqual([
      "application.yml: igel.client-cert-forwarding.encodingType is not set, so the UMS reads 'X-Amzn-Mtls-Clientcert-Leaf' as a plain PEM; an ALB URL-encodes it and every device will be refused (fix: encodingType: URL_AWS)",
    ]);
  });

  test("a header name without 'enabled: true' is ignored", () => {
    const config = parseAppConfig(block("client-cert-forwarded-header: X-Amzn-Mtls-Clientcert"), FILE);
    expect(config.forwarding).toEqual({ enabled: false });
    expect(config.warnings).toEqual([
      "application.yml: igel.client-cert-forwarding.client-cert-forwarded-header is set to 'X-Amzn-Mtls-Clientcert' but 'enabled' is not true, so the header is ignored and devices are identified by their TLS certificate only",
    ]);
  });
});

describe("an application.yml the mock UMS refuses to start with", () => {
  test.each([
    [
      "not YAML (a tab for indentation)",
      "igel:\n  client-cert-forwarding:\n\tenabled: true\n",
      "application.yml: is not valid YAML: Tabs are not allowed as indentation at line 3, column 1\n  fix: indent with spaces (not tabs) and write one 'key: value' a line, as in the IGEL guide's example",
    ],
    ["a list at the top", "- igel\n", "application.yml: (top level): must be a mapping of settings (found a list)\n  fix: start the file with 'igel:' on its own line"],
    ["igel is not a mapping", "igel: yes\n", "application.yml: igel: must be a mapping (found 'yes')\n  fix: put 'client-cert-forwarding:' indented under 'igel:'"],
    [
      "forwarding enabled without a header name",
      block("enabled: true\nencodingType: URL_AWS"),
      `application.yml: igel.client-cert-forwarding.client-cert-forwarded-header: You must set 'client-cert-forwarded-header' when 'enabled' is true\n  fix: ${HEADER_FIX}`,
    ],
    [
      "encodingType not URL_AWS",
      block("enabled: true\nencodingType: BASE64\nclient-cert-forwarded-header: X-Amzn-Mtls-Clientcert-Leaf"),
      "application.yml: igel.client-cert-forwarding.encodingType: 'BASE64' is not an encoding the UMS applies to AWS-forwarded certificates\n  fix: write encodingType: URL_AWS (the ALB URL-encodes the PEM)",
    ],
    [
      "encodingType in lower case",
      block("enabled: true\nencodingType: url_aws\nclient-cert-forwarded-header: X-Amzn-Mtls-Clientcert-Leaf"),
      "application.yml: igel.client-cert-forwarding.encodingType: 'url_aws' is not recognised: the value is case-sensitive\n  fix: write encodingType: URL_AWS (the ALB URL-encodes the PEM)",
    ],
    ["enabled is not a boolean", block("enabled: maybe"), "application.yml: igel.client-cert-forwarding.enabled: must be true or false (got 'maybe')\n  fix: write enabled: true (or false)"],
    [
      "a misspelt header key",
      block("enabled: true\nencodingType: URL_AWS\nclient-cert-forwarded-headers: X-Amzn-Mtls-Clientcert-Leaf"),
      "application.yml: igel.client-cert-forwarding.client-cert-forwarded-headers: unknown field (the UMS ignores it)\n  fix: did you mean 'client-cert-forwarded-header'?",
    ],
    [
      "a header name with a colon",
      block("enabled: true\nencodingType: URL_AWS\nclient-cert-forwarded-header: 'X-Amzn-Mtls-Clientcert-Leaf:'"),
      `application.yml: igel.client-cert-forwarding.client-cert-forwarded-header: 'X-Amzn-Mtls-Clientcert-Leaf:' is not an HTTP header name (letters, digits and '-' only, no ':' or spaces)\n  fix: ${HEADER_FIX}`,
    ],
    [
      "one setting spelt two ways",
      block("enabled: true\nencodingType: URL_AWS\nclient-cert-forwarded-header: X-A\nclientCertForwardedHeader: X-B"),
      "application.yml: igel.client-cert-forwarding.clientCertForwardedHeader: sets 'client-cert-forwarded-header' a second time (Spring binds both spellings to one setting)\n  fix: keep one of them",
    ],
    [
      "two wrong types at once (both reported)",
      block("enabled: true\nencodingType: 5\nclient-cert-forwarded-header: [a]"),
      "application.yml: igel.client-cert-forwarding.encodingType: must be a word like URL_AWS (got 5)\n  fix: write encodingType: URL_AWS\n" +
        `application.yml: igel.client-cert-forwarding.client-cert-forwarded-header: must be a header name (got ["a"])\n  fix: ${HEADER_FIX}`,
    ],
  ])("%s", (_what, text, message) => {
    const error = thrown(() => parseAppConfig(text, FILE));
    expect(error).toBeInstanceOf(ProblemsError);
    expect(error.message).toBe(`${HEADING}\n${message}`);
  });

  test("a file that does not exist", () => {
    const missing = path.join(os.tmpdir(), "ums-edge-no-such-dir", "application.yml");
    expect(thrown(() => loadAppConfig(missing)).message).toBe(
      `${missing}: does not exist (looked at ${missing})\n  fix: give the path of the UMS application.yml, or leave --app-config out to run without client-cert forwarding`,
    );
  });

  test("MockUms.start() refuses the file before listening", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-appcfg-"));
    const file = path.join(dir, "application.yml");
    fs.writeFileSync(file, block("enabled: true"));
    try {
      const ums = new MockUms({ pki: await testLabPki(), port: 0, appConfigFile: file });
      await expect(ums.start()).rejects.toThrow("You must set 'client-cert-forwarded-header' when 'enabled' is true");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
