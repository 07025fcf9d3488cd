import { join } from 'node:path';
import { resolveWritHome } from '../../home/writ-home.js';
import { startServer, type StartServerOptions } from '../../server/run.js';
import { UsageError, type Command } from '../command.js';
import { integerOption } from '../options.js';

export const DEFAULT_SERVER_PORT = 7070;

export const serverOptions = {
  home: { type: 'string' },
  db: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  data: { type: 'string' },
  origin: { type: 'string' },
  'oidc-issuer': { type: 'string' },
  'oidc-audience': { type: 'string' },
  'oidc-client-secret': { type: 'string' },
  'admin-group': { type: 'string', multiple: true },
  'auditor-group': { type: 'string', multiple: true },
  'approval-webhook': { type: 'string' },
  'public-url': { type: 'string' },
} as const;

export const serverCommand: Command = {
  usage:
    'server [--db sqlite:PATH | --db postgres://…] [--port N] [--host ADDR] [--data DIR] [--origin NAME] ' +
    '[--oidc-issuer URL --oidc-audience CLIENT_ID [--oidc-client-secret SECRET] [--admin-group G]… [--auditor-group G]…] [--approval-webhook URL] [--public-url URL]',
  summary: 'run the control plane: enrolment, ingest, the transparency log, policy and kill switches, the API',
  options: serverOptions,
  async run({ values }) {
    const server = await startServer(serverConfig(values, resolveWritHome(values.home as string | undefined).root));
    if (server.adminTokenFile) process.stderr.write(`writ server: the first admin token is in ${server.adminTokenFile} (owner-only); keep it safe\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
    return 0;
  },
};

/** Options shared by `writ server` and `writ start`; the data directory defaults to $WRIT_HOME/server. */
export function serverConfig(values: Record<string, unknown>, writHomeRoot: string): StartServerOptions {
  const db = values.db as string | undefined;
  if (db !== undefined && !/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(db)) throw new UsageError(`--db takes sqlite:PATH or postgres://…, not "${db}"`);
  const issuer = values['oidc-issuer'] as string | undefined;
  const audience = values['oidc-audience'] as string | undefined;
  if (Boolean(issuer) !== Boolean(audience)) throw new UsageError('--oidc-issuer and --oidc-audience go together');
  // The environment keeps the secret out of process listings; the flag is for quick local use.
  const clientSecret = (values['oidc-client-secret'] as string | undefined) ?? process.env.WRIT_OIDC_CLIENT_SECRET;
  if (values['oidc-client-secret'] !== undefined && !issuer) throw new UsageError('--oidc-client-secret needs --oidc-issuer and --oidc-audience');
  if (issuer && !/^https?:\/\//.test(issuer)) throw new UsageError(`--oidc-issuer must be an http(s) URL, not "${issuer}"`);
  for (const name of ['approval-webhook', 'public-url'] as const) {
    const url = values[name];
    if (url !== undefined && !/^https?:\/\/\S+$/.test(url as string)) throw new UsageError(`--${name} must be an http(s) URL`);
  }
  return {
    dataDir: (values.data as string | undefined) ?? join(writHomeRoot, 'server'),
    ...(db && { db }),
    port: integerOption(values.port as string | undefined, '--port', 0, 65535) ?? DEFAULT_SERVER_PORT,
    ...(values.host !== undefined && { host: values.host as string }),
    ...(values.origin !== undefined && { origin: values.origin as string }),
    ...(values['approval-webhook'] !== undefined && { approvalWebhook: values['approval-webhook'] as string }),
    ...(values['public-url'] !== undefined && { publicUrl: (values['public-url'] as string).replace(/\/+$/, '') }),
    ...(issuer &&
      audience && {
        oidc: {
          issuer,
          audience,
          adminGroups: (values['admin-group'] as string[] | undefined) ?? ['writ-admins'],
          auditorGroups: (values['auditor-group'] as string[] | undefined) ?? ['writ-auditors'],
          ...(clientSecret && { clientSecret }),
        },
      }),
  };
}
