import { ApiError } from '../api';

/** An error as the reader should see it: what failed and, from the server, why. */
export function ErrorMessage({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const status = error instanceof ApiError && error.status ? ` (${error.status})` : '';
  return (
    <div className="error" role="alert">
      <strong>{what ? `Could not ${what}${status}:` : `Error${status}:`}</strong> {message}
    </div>
  );
}
