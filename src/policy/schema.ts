// Writ's Cedar schema: who acts (a person on a device, through an agent), what they do, and to what.
// Policies are validated against it, so a misspelt attribute is an error, never a rule that silently never fires.

export const NAMESPACE = 'Writ';

export const SCHEMA = `namespace Writ {
  entity Group;
  entity User in [Group] {
    assurance: String,     // "oidc" when an IdP verified the person, "local-os-user" otherwise
    email?: String         // only when the IdP verified it
  };

  entity File {
    path: String,          // absolute; "*" stands for parts only known at run time
    name: String,          // last path component
    home_path: String,     // "~/…" under the home directory, else the path
    in_project: Bool,
    in_temp: Bool,
    in_writ_home: Bool,
    recursive: Bool        // everything below path (grep -r, cp -r, tar, rm -r)
  };
  entity Command {
    program: String,       // with directories and wrappers stripped: /usr/bin/sudo cat → cat
    line: String,          // program and arguments joined by single spaces, quotes removed
    args: Set<String>,
    facts: Set<String>,    // what the normaliser understood, e.g. "git.push.force", "git.push.target:main"
    remote_code: Bool,     // runs code fetched from the network
    opaque: Bool,          // Writ could not tell what it runs, reads or writes
    opaque_reason: String
  };
  entity Host {
    host: String,          // lower case, no trailing dot; an IP literal in canonical form (0xA9FEA9FE → 169.254.169.254)
    domain: String,        // the DNS name, "" when the destination is an IP literal
    ip?: ipaddr,           // only for an IP literal (any spelling, IPv4-mapped IPv6 as IPv4) or a name like 10.0.0.1.nip.io
    port: Long,
    scheme: String,
    method: String,
    url: String,
    project_remote: Bool,  // one of the project's own git remotes
    loopback: Bool
  };
  entity McpServer;        // id: the server's fingerprint ("sha256:…"), or "name:<server>" when no configuration names it
  entity McpTool in [McpServer] {
    server: String,        // the name in the tool name (mcp__<server>__<tool>): chosen by whoever configured it
    tool: String,
    fingerprint: String,   // "sha256:…" of what the server is (package and version, image, command line, URL); "" when unconfigured
    package: String,       // npm or PyPI package, container image (docker.io/mcp/github), installed script; "" when not certain
    version: String,       // version, tag or digest as configured; "" when unpinned
    url: String,           // a remote server's URL without credentials or query; "" for local servers
    internal: Bool,        // settings.json trusts its results ("trust": "internal", pins matching)
    writes: Bool,          // the tool can change state or send data (by its name, or facts such as sql.write)
    args: Set<String>,     // scalar arguments as "path=value": "owner=acme", "labels[]=bug", "options.draft=true"
    facts: Set<String>     // "sql.read" | "sql.write" | "sql.unknown", "sql.multiple", "sql.statement:drop", "graphql.mutation", "args.truncated"
  };
  entity Query { text: String };
  entity Task { subagent: String };

  // What the session has already done; see src/policy/session.ts for what sets each flag.
  type Touched = {
    secrets: Bool,          // read something a rule annotated @touches("secrets") covers
    untrusted: Bool,        // took in content from outside: a network fetch, an MCP server not marked internal, an untrusted repository
    private_data: Bool,     // read the project's files or secrets
    production: Bool        // reached a host or ran a command the settings name as production
  };
  // The device's health as the posture collector last saw it; an attribute is absent when unknown.
  type Posture = {
    os?: String,            // "linux", "darwin", "windows"
    os_version?: String,
    disk_encrypted?: Bool,
    firewall?: Bool,
    endpoint_protection?: Bool,
    screen_lock?: Bool,
    patch_age_days?: Long,  // days since the OS packages were last updated
    age_seconds?: Long      // how long ago it was collected
  };

  type Call = {
    tool: String,           // the agent's tool: Bash, Read, mcp__github__create_issue, …
    via: String,            // how the action was reached: "sudo → cat"
    agent: String,
    agent_version: String,
    session: String,
    permission_mode: String,
    cwd: String,
    project_dir: String,
    repository: String,     // the project's origin as host/path ("github.com/acme/app"), "" when unknown
    branch: String,         // "" when unknown
    touched: Touched,
    device: Posture
  };

  action read, write, delete appliesTo { principal: [User], resource: [File], context: Call };
  action exec appliesTo { principal: [User], resource: [Command], context: Call };
  action fetch, send appliesTo { principal: [User], resource: [Host], context: Call };
  action mcp_call appliesTo { principal: [User], resource: [McpTool], context: Call };
  action search appliesTo { principal: [User], resource: [Query], context: Call };
  action delegate appliesTo { principal: [User], resource: [Task], context: Call };
}
`;
