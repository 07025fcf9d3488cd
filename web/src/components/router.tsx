// Routing by URL hash (`#/fleet?person=…`), so any page can be linked, reloaded and opened in a new tab
// without the server knowing the page names.
import { useEffect, useState } from 'react';

export interface Route {
  /** The page id, e.g. `fleet`; empty for the overview. */
  page: string;
  /** Path segments after the page, e.g. a session id in `#/sessions/abc`. */
  rest: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const [path, search = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const [page = '', ...rest] = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page, rest, params: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const changed = () => setHash(window.location.hash);
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return parseHash(hash);
}

/** The href for a page with optional path segments and query, e.g. `href('sessions', ['abc'])`. */
export function href(page: string, rest: string[] = [], params?: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) if (value) query.set(key, value);
  const search = query.toString();
  return `#/${[page, ...rest].map(encodeURIComponent).join('/')}${search ? '?' + search : ''}`;
}

/** Replaces the current page's query (filters) without adding a history entry per keystroke. */
export function replaceParams(params: Record<string, string | undefined>): void {
  const { page, rest } = parseHash(window.location.hash);
  const target = href(page || 'overview', rest, params);
  if (target !== window.location.hash) {
    window.history.replaceState(null, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  }
}
