// From what was seen on a device (processes, binaries and their `--version` answers, config folders,
// extensions, apps) to one AgentFinding per agent, classified governed, ungoverned or unknown. Pure: the
// looking is done by src/discovery/, which hands the evidence here.
import type { AgentFinding, Evidence, GuardAgentState } from '../core/inventory.js';
import { AGENT_CATALOGUE, type AgentBinary, type AgentSignature } from './agent-catalogue.js';

export interface ProcessInfo {
  pid: number;
  /** comm on Linux, the image name elsewhere. */
  name: string;
  argv: string[];
}

export interface AgentEvidence {
  agent: string;
  evidence: Evidence;
  /** Confirmed by `--version` or a manifest. */
  version?: string;
  /** The agent is really installed or running here, not only leftovers (a config folder, an unconfirmed binary). */
  confirmed: boolean;
}

/** The process is this agent: its name is one of the agent's, or a node or python process runs the agent's package. */
export function processMatches(signature: AgentSignature, process: ProcessInfo): boolean {
  const names = [process.name, baseName(process.argv[0] ?? '')].map((name) => name.replace(/\.exe$/i, ''));
  if (names.some((name) => name !== '' && signature.processNames.includes(name))) return true;
  const words = signature.processArguments ?? [];
  return words.length > 0 && process.argv.slice(0, 4).some((arg) => words.some((word) => arg.includes(word)));
}

/** The version a binary's answer confirms, or undefined when the answer is not the agent's. */
export function versionFromOutput(binary: AgentBinary, output: string): string | undefined {
  const firstLines = output.split('\n').slice(0, 5).map((line) => line.trim());
  for (const line of firstLines) {
    const match = binary.versionPattern.exec(line);
    const version = match?.slice(1).find((group) => group !== undefined);
    if (version) return version;
  }
  return undefined;
}

/** `github.copilot-chat-0.22.4` → `github.copilot-chat`; undefined for folder names that are not extensions. */
export function extensionIdOf(folder: string): string | undefined {
  const match = /^([a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9._-]*?)-\d+\.\d+\.\d+(?:[-+.][0-9a-z.-]*)?$/i.exec(folder);
  return match?.[1]!.toLowerCase();
}

/** One finding per agent with any evidence; Claude Code's governance comes from its guard state. */
export function classifyAgents(evidence: AgentEvidence[], guard?: GuardAgentState, catalogue: AgentSignature[] = AGENT_CATALOGUE): AgentFinding[] {
  const findings: AgentFinding[] = [];
  for (const signature of catalogue) {
    const mine = evidence.filter((item) => item.agent === signature.id);
    if (mine.length === 0) continue;
    const version = mine.find((item) => item.version !== undefined && item.evidence.source === 'binary')?.version ?? mine.find((item) => item.version !== undefined)?.version;
    const confirmed = mine.some((item) => item.confirmed);
    findings.push({
      id: signature.id,
      name: signature.name,
      kind: signature.kind,
      ...(version !== undefined && { version }),
      ...governance(signature, mine, confirmed, guard),
      running: mine.some((item) => item.evidence.source === 'process'),
      evidence: mine.map((item) => item.evidence),
    });
  }
  return findings;
}

function governance(signature: AgentSignature, evidence: AgentEvidence[], confirmed: boolean, guard?: GuardAgentState): Pick<AgentFinding, 'governance' | 'governance_reason'> {
  if (signature.integration === 'claude-code' && guard) {
    if (guard.hooks_installed) {
      const active = guard.settings.filter((file) => file.has_writ_hooks).map((file) => file.file);
      return { governance: 'governed', governance_reason: `Writ's PreToolUse hook is active in ${active.join(', ')}` };
    }
    return { governance: 'ungoverned', governance_reason: guard.problems.join('; ') || "Writ's hooks are not active in the settings Claude Code loads: run writ install claude-code" };
  }
  if (!confirmed) {
    const places = evidence.map((item) => item.evidence.path).filter(Boolean).join(', ');
    return {
      governance: 'unknown',
      governance_reason: `only leftovers were found (${places}): ${signature.name} is not confirmed installed or running. Remove them if it is gone; if it is in use, Writ cannot govern it yet`,
    };
  }
  if (signature.kind === 'model-runner') {
    return { governance: 'ungoverned', governance_reason: `${signature.name} runs models locally; Writ does not see or govern what is sent to it. Approve it or remove it` };
  }
  return {
    governance: 'ungoverned',
    governance_reason: `Writ has no integration for ${signature.name} yet, so its tool calls are not checked by policy. Approve it as ungoverned, or use Claude Code with Writ instead`,
  };
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}
