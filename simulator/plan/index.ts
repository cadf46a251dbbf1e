export { planStack, APPLICATION_YML_OUTPUT } from "./stack-plan";
export type { StackPlan, ListenerPlan, RulePlan, TrustStorePlan, CrlSummary, WebCertificatePlan } from "./stack-plan";
export type { CertificateSummary } from "./certificate-summary";
export type { PlanWarning, PlanWarningCode } from "./plan-warnings";
export { EXPIRY_WARNING_DAYS } from "./plan-warnings";
export { renderPlans } from "./render-plan";
