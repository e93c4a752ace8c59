// The policy stage: what happens to a connection for a host, the per-host settings, the request rules
// (deny / require approval / rate limit / record level), approvals, and reload.

export { ConfigError, parseYamlWith, loadYamlFile, yamlProblems } from './load.js';
export { normalizeHost, parseHostPattern, HostSet } from './hosts.js';
export * from './schema.js';
export type { RuleSpec, ApprovalsSpec, WebhookSpec, RuleAction } from './rules-schema.js';
export { RuleSet, type CompiledRule, type Evaluation, type RuleRequest } from './rules.js';
export { readPrompt, promptOfJson, type PromptView } from './prompt.js';
export { PolicyStage, type ReloadResult, type PolicyStageOptions } from './stage.js';
export type { RequestFacts, Verdict } from './gate.js';
export { ApprovalQueue, ApprovalError, identityKey, approverLabel, type Approver, type PendingApproval, type ApprovalOutcome, type HoldInput } from './approvals.js';
export { refusal, sseRefusal, refusalMessage, providerOf, type Provider, type Refusal } from './refusal.js';
export { signBody, SIGNATURE_HEADER } from './webhook.js';
export { approvalAdminRoutes } from './admin-routes.js';
export { createRequestGate, type RequestGate, type GateInput, type GateOutcome } from './hook.js';

export { Policy, defaultPolicy, type Action, type Decision } from './policy.js';
