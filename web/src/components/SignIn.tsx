import type { ApiError } from '../api';

/** Shown when there is no session: sign in through the IdP, or use the link `writ server` printed. */
export function SignIn({ error }: { error?: ApiError }) {
  const expired = error && error.status !== 401 && error.code !== 'signed_out';
  return (
    <main className="sign-in" id="main">
      <h1>Writ</h1>
      <p className="lead">Sign in to see your fleet's AI coding agents, their decisions and the evidence.</p>
      {expired && (
        <div className="error" role="alert">
          {error.message}
        </div>
      )}
      <a className="button primary" href="/auth/login">
        Sign in with your identity provider
      </a>
      <p className="hint">
        No identity provider configured? <code>writ server</code> prints a one-time sign-in link for its admin token when it starts.
      </p>
    </main>
  );
}
