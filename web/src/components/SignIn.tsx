import { useEffect, useState } from 'react';
import { api, type ApiError } from '../api';

/** Shown when there is no session: sign in through the IdP, or use the link `writ server` printed. */
export function SignIn({ error }: { error?: ApiError }) {
  const expired = error && error.status !== 401 && error.code !== 'signed_out';
  // Until the server says otherwise, offer the IdP: a failed look-up must not hide the usual way in.
  const [oidc, setOidc] = useState(true);
  useEffect(() => {
    api<{ oidc: boolean }>('/auth/methods')
      .then((methods) => setOidc(methods.oidc))
      .catch(() => undefined);
  }, []);
  return (
    <main className="sign-in" id="main">
      <h1>Writ</h1>
      <p className="lead">Sign in to see your fleet's AI coding agents, their decisions and the evidence.</p>
      {expired && (
        <div className="error" role="alert">
          {error.message}
        </div>
      )}
      {oidc ? (
        <>
          <a className="button primary" href="/auth/login">
            Sign in with your identity provider
          </a>
          <p className="hint">
            No identity provider configured? <code>writ server</code> prints a one-time sign-in link for its admin token when it starts.
          </p>
        </>
      ) : (
        <p>
          This server has no identity provider. Open the one-time sign-in link that <code>writ server</code> printed when it started (restart it for a new one), or
          start it with <code>--oidc-issuer</code> and <code>--oidc-audience</code>.
        </p>
      )}
    </main>
  );
}
