// A GET that reloads when its path or query changes, cancels the stale request, and can be refreshed.
import { useCallback, useEffect, useState } from 'react';
import { api, withQuery, type Query } from '../api';

export interface Loaded<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
  reload(): void;
}

export function useApi<T>(path: string | undefined, query?: Query): Loaded<T> {
  const key = path === undefined ? undefined : withQuery(path, query);
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: key !== undefined });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (key === undefined) return;
    const controller = new AbortController();
    setState((previous) => ({ data: previous.data, loading: true }));
    api<T>(key, { signal: controller.signal })
      .then((data) => setState({ data, loading: false }))
      .catch((error: Error) => {
        if (error.name !== 'AbortError') setState({ error, loading: false });
      });
    return () => controller.abort();
  }, [key, generation]);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  return { ...state, reload };
}
