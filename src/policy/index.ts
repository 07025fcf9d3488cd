// The policy core's public surface.
export type { Action, CallEnvironment } from './actions.js';
export { checkPolicy, preparePolicy, policyHash, PolicyError, type PolicyFile, type PolicyProblem, type PreparedPolicy, type Rule } from './engine.js';
export { matchEachRule, policyWarnings, ruleForms, type AuthorizationRequest, type RuleForm, type RuleMatch } from './engine.js';
export { decide, describeAction, UNTOUCHED, type CallContext, type Decision, type DecisionKind, type Posture, type Principal, type Touched } from './decide.js';
export { MalformedCall, normaliseToolCall, type ToolCall } from './normalise.js';
export { loadShellParser, type ShellParser } from './shell/parse.js';
export { CompileError, compileClaudeCode, formatManagedSettings, NATIVE_ANNOTATIONS, type ClaudeCodeCompileOptions, type ClaudeHooksSetting, type ClaudeManagedSettings, type McpServerEntry } from './compile/claude-code.js';
export { CASE_ENVIRONMENT, parseCaseFile, runCases, type CaseResult, type PolicyCase, type PolicyCaseFile } from './test-cases.js';
export { DEFAULT_SETTINGS, globMatches, parsePolicySettings, SETTINGS_FILE, type ContractCategory, type PolicySettings } from './settings.js';
export { ContractError, evaluateContract, knownPhrases, parseContract, type ContractVerdict, type TaskContract } from './contract.js';
export { observe, repositoryTrusted, TOUCHED_FLAGS, touchedBy, type TouchedFlag } from './session.js';
export { touchedByActions } from './session.js';
export { toRequest } from './decide.js';
export { replayDecisions, summariseCall, unfaithfulInput, type ReplayChange, type ReplayEvent, type ReplayInput, type ReplayReport, type ReplayVerdict, type Unreplayable } from './replay.js';
export { lintPolicy, type LintFinding, type LintKind, type LintSeverity } from './lint.js';
