// The policy core's public surface.
export type { Action, CallEnvironment } from './actions.js';
export { checkPolicy, preparePolicy, policyHash, PolicyError, type PolicyFile, type PolicyProblem, type PreparedPolicy, type Rule } from './engine.js';
export { decide, describeAction, type CallContext, type Decision, type DecisionKind, type Principal } from './decide.js';
export { MalformedCall, normaliseToolCall, type ToolCall } from './normalise.js';
export { loadShellParser, type ShellParser } from './shell/parse.js';
export { CASE_ENVIRONMENT, parseCaseFile, runCases, type CaseResult, type PolicyCase, type PolicyCaseFile } from './test-cases.js';
