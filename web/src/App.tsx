// The shell: navigation to the eight pages, the signed-in person and their role, and the page for the hash.
import type { ComponentType } from 'react';
import { useAuth } from './auth';
import { SignIn } from './components/SignIn';
import { href, useRoute } from './components/router';
import { Agents } from './pages/Agents';
import { Approvals } from './pages/Approvals';
import { Evidence } from './pages/Evidence';
import { Fleet } from './pages/Fleet';
import { Live } from './pages/Live';
import { Overview } from './pages/Overview';
import { Policy } from './pages/Policy';
import { Sessions } from './pages/Sessions';

interface PageEntry {
  id: string;
  label: string;
  component: ComponentType;
}

export const PAGES: PageEntry[] = [
  { id: 'overview', label: 'Overview', component: Overview },
  { id: 'fleet', label: 'Fleet', component: Fleet },
  { id: 'agents', label: 'Agents and MCP', component: Agents },
  { id: 'live', label: 'Live activity', component: Live },
  { id: 'sessions', label: 'Sessions', component: Sessions },
  { id: 'approvals', label: 'Approvals', component: Approvals },
  { id: 'policy', label: 'Policy', component: Policy },
  { id: 'evidence', label: 'Evidence', component: Evidence },
];

export function App() {
  const { me, loading, error, signOut } = useAuth();
  const route = useRoute();
  if (loading) return <p className="loading" role="status">Loading…</p>;
  if (!me) return <SignIn error={error} />;
  const current = PAGES.find((page) => page.id === route.page) ?? PAGES[0];
  const Page = current.component;
  return (
    <div className="shell">
      <a className="skip" href="#main" onClick={(event) => { event.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <aside className="sidebar">
        <p className="brand">Writ</p>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((page) => (
              <li key={page.id}>
                <a href={href(page.id)} aria-current={page.id === current.id ? 'page' : undefined}>
                  {page.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <p>
            <span className="who-name">{me.name}</span>
            <span className={`role role-${me.role}`}>{me.role === 'admin' ? 'Admin' : 'Auditor (read-only)'}</span>
          </p>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </aside>
      <main id="main" tabIndex={-1} key={current.id}>
        <Page />
      </main>
    </div>
  );
}
