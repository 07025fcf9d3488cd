// The dashboard in a real browser: Debian's Chromium driven by playwright-core, a real `writ server` process
// (the built bin/writ.js) serving the dashboard, and sign-in through the real OIDC provider's own login form.
//
//   const idp = await startOidcProvider();                 // alice (writ-admins), bob (writ-auditors)
//   const server = await startDashboardServer({ idp });    // writ server with OIDC code flow, on a fixed port
//   const browser = await launchChromium();
//   const page = await newDashboardPage(browser);          // 1440×900
//   await signIn(page, server, 'alice');                   // the provider's login and consent pages, filled in
//   await page.goto(`${server.url}/#/fleet`);
//   await saveScreenshot(page, 'fleet');                   // docs/screenshots/fleet.png, see shouldWriteScreenshot
//   await browser.close(); await server.close(); await idp.close();
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { TestOidcProvider } from './oidc-provider.js';
import { freePort, startServerProcess, type ServerProcess } from './server.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
/** Headless, and nothing that reaches the network or the user's profile on its own. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const VIEWPORT = { width: 1440, height: 900 };
export const SCREENSHOT_DIR = join(import.meta.dirname, '../../docs/screenshots');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** A fresh browser profile (its own cookies) with the screenshot viewport. */
export async function newDashboardPage(browser: Browser): Promise<Page> {
  const context: BrowserContext = await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true, locale: 'en-US', timezoneId: 'UTC' });
  return context.newPage();
}

export interface DashboardServer {
  url: string;
  dataDir: string;
  /** The bootstrap admin token `writ server` wrote, for devices to enrol with and for API checks. */
  adminToken: string;
  process: ServerProcess;
  close(): Promise<void>;
}

export interface DashboardServerOptions {
  idp: TestOidcProvider;
  /** 'sqlite:PATH' or 'postgres://…' (default: SQLite in the data directory). */
  db?: string;
  /** Reuse a data directory (kept on close); default a temporary one, removed on close. */
  dataDir?: string;
}

/**
 * `writ server` as its own process with OIDC sign-in for the dashboard: the provider's dashboard client,
 * admins and auditors by group, and a public URL on a port chosen first, so that the provider knows the
 * callback before the server starts.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const { idp } = options;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'writ-dashboard-'));
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const args = [
    '--port', String(port), '--data', dataDir,
    ...(options.db ? ['--db', options.db] : []),
    '--public-url', publicUrl,
    '--oidc-issuer', idp.issuer,
    '--oidc-audience', idp.dashboardClient.clientId,
    '--oidc-client-secret', idp.dashboardClient.clientSecret,
    '--admin-group', 'writ-admins',
    '--auditor-group', 'writ-auditors',
  ];
  const serverProcess = await startServerProcess(args);
  return {
    url: publicUrl,
    dataDir,
    adminToken: readFileSync(join(dataDir, 'admin-token'), 'utf8').trim(),
    process: serverProcess,
    async close() {
      if (serverProcess.child.exitCode === null) {
        serverProcess.child.kill('SIGTERM');
        await serverProcess.exited;
      }
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Signs in as a person would: the dashboard's sign-in link, then the provider's own login form (account name)
 * and consent page, then back to the dashboard, which shows who is signed in.
 */
export async function signIn(page: Page, server: { url: string }, accountId: string): Promise<void> {
  await page.goto(`${server.url}/`);
  await page.getByRole('link', { name: 'Sign in with your identity provider' }).click();
  await page.getByPlaceholder('account').fill(accountId);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((url) => url.origin === new URL(server.url).origin);
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/**
 * Screenshots are kept in the repository, so ordinary runs must not rewrite them: a page's screenshot is
 * written only when it is missing, or when WRIT_SCREENSHOTS=1 asks for all of them anew.
 */
export function shouldWriteScreenshot(name: string): boolean {
  return process.env.WRIT_SCREENSHOTS === '1' || !existsSync(join(SCREENSHOT_DIR, `${name}.png`));
}

/** Writes docs/screenshots/<name>.png at 1440×900 when shouldWriteScreenshot allows; says whether it did. */
export async function saveScreenshot(page: Page, name: string): Promise<boolean> {
  if (!shouldWriteScreenshot(name)) return false;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.setViewportSize(VIEWPORT);
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: false, animations: 'disabled' });
  return true;
}
