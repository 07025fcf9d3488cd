// A generated organisation policy of about 980 rules on top of the standard one, shaped like what a
// large organisation writes: host deny- and allowlists, per-program command rules, rules on project
// subtrees, MCP tool rules, group and session conditions, and a few rules using extension functions.
// Used by bench/policy-scale.bench.ts and test/policy/rule-index.test.ts; deterministic for a seed.
import type { PolicyFile } from '../src/policy/index.js';

/** Vocabulary the rules draw on, so that generated calls can hit them. */
export const ORG = {
  programs: Array.from({ length: 120 }, (_, n) => `tool${n}`),
  exfilHosts: Array.from({ length: 150 }, (_, n) => `exfil${n}.example`),
  pasteDomains: Array.from({ length: 50 }, (_, n) => `paste${n}.example`),
  docsHosts: Array.from({ length: 40 }, (_, n) => `docs${n}.internal.example`),
  services: Array.from({ length: 60 }, (_, n) => `svc${n}`),
  mcpServers: Array.from({ length: 40 }, (_, n) => `srv${n}`),
  contexts: Array.from({ length: 50 }, (_, n) => `ctx${n}`),
  groups: ['sre', 'dba', 'release-managers', 'contractors', 'security'],
};

/** A small deterministic PRNG (mulberry32), so a seed gives the same policy and calls everywhere. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const A = (...names: string[]) => (names.length === 1 ? `action == Writ::Action::"${names[0]}"` : `action in [${names.map((name) => `Writ::Action::"${name}"`).join(', ')}]`);

function rule(id: string, effect: 'permit' | 'forbid', scope: string, body: string, annotations: string[] = []): string {
  const header = [`@id("${id}")`, `@reason("org rule ${id}")`, ...annotations].join('\n');
  return `${header}\n${effect} (principal, ${scope}, resource)\n${body};\n`;
}

/** The organisation's rules as policy files (about 980 rules). */
export function orgPolicyFiles(): PolicyFile[] {
  const hosts: string[] = [];
  ORG.exfilHosts.forEach((host, n) => hosts.push(rule(`org.host.deny.${n}`, 'forbid', A('fetch', 'send'), `when { resource.host == "${host}" }`)));
  ORG.pasteDomains.forEach((domain, n) => hosts.push(rule(`org.host.paste.${n}`, 'forbid', A('send'), `when { resource.host like "*.${domain}" || resource.host == "${domain}" }`)));
  ORG.docsHosts.forEach((host, n) =>
    hosts.push(rule(`org.host.docs.${n}`, 'permit', A('fetch'), `when { resource.host == "${host}" && resource.scheme == "https" }`, ['@answer("allow")'])),
  );
  hosts.push(rule('org.host.plain-http', 'forbid', A('send'), `when { resource.scheme == "http" && !resource.loopback }`, ['@effect("ask")']));

  const commands: string[] = [];
  ORG.programs.forEach((program, n) => {
    commands.push(rule(`org.cmd.force.${n}`, 'forbid', A('exec'), `when { resource.program == "${program}" && (resource.args.contains("--force") || resource.line like "* --target=prod*") }`));
    if (n % 2 === 0) commands.push(rule(`org.cmd.ask.${n}`, 'forbid', A('exec'), `when { resource.program == "${program}" && resource.args.contains("publish") }`, ['@effect("ask")']));
    if (n % 3 === 0) commands.push(rule(`org.cmd.group.${n}`, 'forbid', A('exec'), `when { resource.program == "${program}" && resource.args.contains("deploy") && !(principal in Writ::Group::"release-managers") }`));
  });
  ORG.contexts.forEach((name, n) =>
    commands.push(rule(`org.kubectl.${n}`, 'forbid', A('exec'), `when { resource.program == "kubectl" && resource.args.contains("--context=${name}") && (resource.args.contains("delete") || resource.args.contains("apply")) } unless { principal in Writ::Group::"sre" }`)),
  );
  for (let n = 0; n < 20; n++) {
    commands.push(rule(`org.cmd.set.${n}`, 'forbid', A('exec'), `when { ["legacy${n}", "old${n}", "tool${n}-v1"].contains(resource.program) }`, ['@effect("ask")']));
    commands.push(rule(`org.cmd.agent.${n}`, 'forbid', A('exec'), `when { context.agent == "codex" && resource.program == "tool${100 + n}" }`));
  }
  for (let n = 0; n < 10; n++) {
    commands.push(rule(`org.cmd.ext.${n}`, 'forbid', A('exec'), `when { resource.program == "legacy${n}" && ip("10.0.${n}.1").isInRange(ip("10.0.0.0/8")) && resource.args.contains("--unsafe") }`));
  }
  commands.push(rule('org.cmd.sudo-line', 'forbid', A('exec'), `when { resource.line like "*rm -rf /*" && !resource.opaque }`));

  const paths: string[] = [];
  ORG.services.forEach((service, n) => {
    const root = `/home/dev/project/services/${service}`;
    paths.push(rule(`org.path.migrations.${n}`, 'forbid', A('write', 'delete'), `when { resource.path like "${root}/migrations/*" && !(principal in Writ::Group::"dba") }`));
    paths.push(rule(`org.path.secrets.${n}`, 'forbid', A('read'), `when { resource.path like "${root}/secrets/*" || (resource.recursive && resource.path == "${root}") }`));
    paths.push(rule(`org.path.generated.${n}`, 'forbid', A('write'), `when { resource.path like "${root}/gen/*.pb.go" }`, ['@effect("ask")']));
    paths.push(rule(`org.path.env.${n}`, 'forbid', A('read', 'write'), `when { resource.name == "${service}.prod.env" }`));
  });
  for (let n = 0; n < 10; n++) {
    paths.push(rule(`org.path.star.${n}`, 'forbid', A('write'), `when { resource.path like "/home/dev/project/vendor${n}/\\**" }`));
    paths.push(rule(`org.path.posture.${n}`, 'forbid', A('read'), `when { resource.path like "/home/dev/project/customer-data${n}/*" && context.device has disk_encrypted && !context.device.disk_encrypted }`));
    paths.push(rule(`org.path.touched.${n}`, 'forbid', A('write'), `when { context.touched.secrets && resource.path like "*/public${n}/*" }`));
  }

  const mcp: string[] = [];
  ORG.mcpServers.forEach((server, n) => {
    mcp.push(rule(`org.mcp.destructive.${n}`, 'forbid', A('mcp_call'), `when { resource.server == "${server}" && ["delete_repo", "drop_table", "delete_project"].contains(resource.tool) }`));
    mcp.push(rule(`org.mcp.admin.${n}`, 'forbid', A('mcp_call'), `when { resource in Writ::McpServer::"${server}" && resource.tool like "admin_*" }`, ['@effect("ask")']));
    mcp.push(rule(`org.mcp.contractors.${n}`, 'forbid', A('mcp_call'), `when { resource.server == "${server}" && principal in Writ::Group::"contractors" }`));
  });

  const people: string[] = [];
  for (let n = 0; n < 20; n++) {
    people.push(rule(`org.people.assurance.${n}`, 'forbid', A('send'), `when { principal.assurance != "oidc" && resource.host like "*.team${n}.example" }`, ['@effect("ask")']));
    people.push(rule(`org.people.session.${n}`, 'forbid', A('exec'), `when { context.permission_mode == "bypassPermissions" && resource.program == "tool${n}" }`));
  }
  return [
    { name: '70-org-hosts.cedar', text: hosts.join('\n') },
    { name: '71-org-commands.cedar', text: commands.join('\n') },
    { name: '72-org-paths.cedar', text: paths.join('\n') },
    { name: '73-org-mcp.cedar', text: mcp.join('\n') },
    { name: '74-org-people.cedar', text: people.join('\n') },
  ];
}
