// `writ enroll`: binds this device's key to a person at a `writ server`, with an OIDC sign-in (device code or a
// browser on a loopback redirect) or, without an IdP, an enrolment token (local mode).
import { spawn } from 'node:child_process';
import { hostname, platform, release, userInfo } from 'node:os';
import { enrollDevice, writeEnrollment } from '../../daemon/enrollment.js';
import { loadOrCreateDeviceKey } from '../../daemon/keys.js';
import { ensureWritHome, resolveWritHome } from '../../home/writ-home.js';
import { signInWithDeviceCode, signInWithLoopback } from '../../identity/sign-in.js';
import { UsageError, type Command } from '../command.js';

export const enrollCommand: Command = {
  usage: 'enroll --server URL [--token T | --issuer URL --client-id ID [--loopback]] [--home DIR]',
  summary: 'enrol this device with a Writ server: sign in with OIDC, or (local mode) present an enrolment token (or WRIT_ENROLL_TOKEN)',
  options: {
    server: { type: 'string' },
    token: { type: 'string' },
    issuer: { type: 'string' },
    'client-id': { type: 'string' },
    loopback: { type: 'boolean' },
    home: { type: 'string' },
  },
  async run({ values, positionals }) {
    if (positionals.length > 0) throw new UsageError(`enroll takes no arguments (got "${positionals.join(' ')}")`);
    const server = httpUrl(values.server, '--server');
    const issuer = values.issuer === undefined ? undefined : httpUrl(values.issuer, '--issuer');
    const clientId = values['client-id'] as string | undefined;
    const token = (values.token as string | undefined) ?? (issuer === undefined ? process.env.WRIT_ENROLL_TOKEN || undefined : undefined);
    if (issuer !== undefined && values.token !== undefined) throw new UsageError('give either --token (local mode) or --issuer (OIDC sign-in), not both');
    if (issuer !== undefined && !clientId) throw new UsageError('--issuer needs --client-id (the OIDC client id of the Writ CLI)');
    if (issuer === undefined && (clientId !== undefined || values.loopback)) throw new UsageError('--client-id and --loopback go with --issuer');
    if (issuer === undefined && !token) throw new UsageError('say how to prove who you are: --issuer URL --client-id ID (OIDC), or --token T / WRIT_ENROLL_TOKEN (local mode)');

    const home = resolveWritHome(values.home as string | undefined);
    ensureWritHome(home);
    const key = loadOrCreateDeviceKey(home.root);
    let idToken: string | undefined;
    if (issuer !== undefined) {
      const signIn = values.loopback
        ? signInWithLoopback({ issuer, clientId: clientId!, openUrl })
        : signInWithDeviceCode({
            issuer,
            clientId: clientId!,
            onPrompt: ({ verificationUri, verificationUriComplete, userCode }) =>
              process.stderr.write(`To sign in, open ${verificationUriComplete ?? verificationUri} and enter the code ${userCode}\n`),
          });
      idToken = (await signIn).idToken;
    }
    const enrollment = await enrollDevice({
      server,
      key,
      idToken,
      enrollToken: token,
      hostname: hostname(),
      os: `${platform()} ${release()}`,
      osUser: userInfo().username,
    });
    writeEnrollment(home.enrollment, enrollment);
    const who = enrollment.person.email ?? `${enrollment.person.sub}${enrollment.person.iss === 'local' ? '' : ` at ${enrollment.person.iss}`}`;
    process.stdout.write(
      [
        `enrolled device ${enrollment.device_id} for ${who} (assurance ${enrollment.assurance}) with ${enrollment.server}`,
        `org log: ${enrollment.org.origin}`,
        `org verifier key (pinned): ${enrollment.org.verifier_key}`,
        `kept in ${home.enrollment}; (re)start the daemon to upload and receive the org's policy: writ daemon`,
      ].join('\n') + '\n',
    );
    return 0;
  },
};

function httpUrl(value: string | boolean | undefined, name: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`${name} URL is required`);
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw new UsageError(`${name} must be an http(s) URL, not "${value}"`);
  return value;
}

// The URL is always printed, so the person can open it by hand; a browser is started only at a terminal.
function openUrl(url: string): void {
  process.stderr.write(`To sign in, open this URL in your browser: ${url}\n`);
  if (!process.stderr.isTTY) return;
  const opener = platform() === 'darwin' ? 'open' : platform() === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => {});
  child.unref();
}
