import type { ScenarioId } from "../expected-outcomes";
import type { Flow } from "./flow";
import { healthFlow } from "./health";
import { onboardingFlow, onboardingOn8443Flow, managementSessionFlow, rebootFlow, settingsFlow, appDownloadFlow, webAppFlow } from "./devices";
import { certificateFlow } from "./certificates";
import { noCertificateFlow, spoofedHeaderFlow, outsideAllowListFlow } from "./paths";
import { bypassFrontFlow } from "./isolation";
import { traversalFlow } from "./traversal";
import { reenrollmentFlow } from "./reenrollment";
import { misconfiguredUmsFlow } from "./misconfiguration";
import { ciphersOutsidePolicyFlow } from "./tls-policy";
import { certificateChangeFlow } from "./certificate-changes";
import { failoverFlow } from "./failover";

export interface FlowEntry {
  readonly run: Flow;
  /** Starts its own instance of the topology: run after the main one has stopped. */
  readonly ownTopology?: boolean;
}

/** The code behind each row of the expected-outcomes table, in the order it runs. */
export const FLOWS: Readonly<Record<ScenarioId, FlowEntry>> = {
  health: { run: healthFlow },
  onboarding: { run: onboardingFlow },
  "onboarding-on-8443": { run: onboardingOn8443Flow },
  "management-session": { run: managementSessionFlow },
  "command-settings": { run: settingsFlow },
  "command-reboot": { run: rebootFlow },
  "app-download": { run: appDownloadFlow },
  "web-app": { run: webAppFlow },
  "cert-other-ca": { run: certificateFlow("other-ca") },
  "cert-self-signed": { run: certificateFlow("self-signed") },
  "cert-expired": { run: certificateFlow("expired") },
  "cert-not-yet-valid": { run: certificateFlow("not-yet-valid") },
  "cert-revoked": { run: certificateFlow("revoked") },
  "cert-too-deep": { run: certificateFlow("too-deep") },
  "cert-x509-v1": { run: certificateFlow("x509-v1") },
  "cert-rsa-1024": { run: certificateFlow("rsa-1024") },
  "cert-wrong-purpose": { run: certificateFlow("wrong-purpose") },
  "cert-non-ca-issuer": { run: certificateFlow("non-ca-issuer") },
  "cert-sha1": { run: certificateFlow("sha1-signed") },
  "tls-cipher-outside-policy": { run: ciphersOutsidePolicyFlow },
  "no-cert-management": { run: noCertificateFlow },
  "spoofed-header": { run: spoofedHeaderFlow },
  "path-outside-allow-list": { run: outsideAllowListFlow },
  "path-traversal": { run: traversalFlow },
  "reenroll-existing-unit": { run: reenrollmentFlow },
  "bypass-front": { run: bypassFrontFlow },
  "ums-wrong-header": { run: misconfiguredUmsFlow("wrong-header-verify"), ownTopology: true },
  "ums-without-url-aws": { run: misconfiguredUmsFlow("no-url-aws-passthrough"), ownTopology: true },
  // Certificates changing under a running deployment: one run per topology serves the three rows.
  "crl-update": { run: certificateChangeFlow("crl-update"), ownTopology: true },
  "web-cert-renewal": { run: certificateChangeFlow("web-cert-renewal"), ownTopology: true },
  "ca-rotation": { run: certificateChangeFlow("ca-rotation"), ownTopology: true },
  // Last in the main topology: it kills one of its UMS servers.
  "ums-failover": { run: failoverFlow },
};
