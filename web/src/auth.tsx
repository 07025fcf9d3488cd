// Who is signed in: /v1/me on load, its role for the page (the server enforces roles too), and sign-out.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, setCsrfToken, type Me } from './api';

interface AuthState {
  me?: Me;
  loading: boolean;
  error?: ApiError;
  isAdmin: boolean;
  signOut(): Promise<void>;
}

const AuthContext = createContext<AuthState>({ loading: true, isAdmin: false, signOut: async () => {} });

export function AuthProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError>();

  useEffect(() => {
    api<Me>('/v1/me')
      .then((found) => {
        setCsrfToken(found.csrf);
        setMe(found);
      })
      .catch((failure: ApiError) => setError(failure))
      .finally(() => setLoading(false));
  }, []);

  const signOut = useCallback(async () => {
    await api('/auth/logout', { method: 'POST' }).catch(() => undefined);
    setMe(undefined);
    setError(new ApiError(401, 'signed_out', 'You are signed out.'));
  }, []);

  return <AuthContext.Provider value={{ me, loading, error, isAdmin: me?.role === 'admin', signOut }}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  return useContext(AuthContext);
}
