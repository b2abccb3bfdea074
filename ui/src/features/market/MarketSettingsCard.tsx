// "Marketplace" on the Settings page: which marketplace to use and the API token to sign in with
// (kept in the OS keyring by the backend, never shown again), who is signed in, and how fresh the
// offline catalog is.
import { useId, useState, type FormEvent } from "react";

import { ErrorAlert, RetryAlert } from "../../components/ErrorAlert";
import type { Account } from "../../generated/Account";
import type { MarketStatus } from "../../generated/MarketStatus";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { formatExact, formatRelative, plural } from "../../lib/format";
import { useMarketStatus } from "./useMarketStatus";

export function MarketSettingsCard() {
  const { state, status, reload } = useMarketStatus();
  const [url, setUrl] = useState<string | null>(null);
  const [token, setToken] = useState("");
  const [account, setAccount] = useState<Account | null>(null);
  // Signing out shows at once, before the reloaded status confirms it.
  const [signedOut, setSignedOut] = useState(false);
  const [busy, setBusy] = useState<"signin" | "signout" | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const headingId = useId();
  const urlId = useId();
  const tokenId = useId();
  const address = url ?? status?.url ?? "";
  const signedIn = account?.name ?? (signedOut ? null : (status?.account ?? null));

  const act = async (what: "signin" | "signout") => {
    setBusy(what);
    setError(null);
    try {
      if (what === "signin") {
        setAccount(await invoke("market_login", { url: address.trim(), token }));
        setSignedOut(false);
        setToken("");
      } else {
        await invoke("market_logout", {});
        setAccount(null);
        setSignedOut(true);
      }
      setUrl(null);
      reload();
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(null);
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (busy === null && address.trim() !== "" && token !== "") void act("signin");
  };

  return (
    <section className="settings-section" data-testid="settings-market" aria-labelledby={headingId}>
      <div className="settings-section-head">
        <h2 id={headingId} className="section-title">
          Marketplace
        </h2>
        <p className="muted small">Where capabilities are shared. Browsing works offline from the last sync.</p>
      </div>
      <div className="market-settings card-surface" aria-busy={state.status === "loading"}>
        {state.status === "error" ? (
          <RetryAlert error={state.error} testId="market-settings-error" onRetry={reload} />
        ) : (
          <>
            <MarketStatusLine status={status} />
            {signedIn !== null && (
              <div className="market-account" role="status">
                <span data-testid="market-account">Signed in as {signedIn}</span>
                {account?.verified && <span className="badge badge-green">✓ Verified publisher</span>}
                {account?.admin && <span className="badge badge-violet">Administrator</span>}
                {account?.orgs.map((o) => (
                  <span key={o.org} className="badge badge-outline badge-blue">
                    {o.org} ({o.role})
                  </span>
                ))}
                <button
                  type="button"
                  className="button button-small"
                  data-testid="market-signout"
                  disabled={busy !== null}
                  onClick={() => void act("signout")}
                >
                  {busy === "signout" && <span className="spinner" aria-hidden="true" />}
                  Sign out
                </button>
              </div>
            )}
            <form className="market-signin" onSubmit={onSubmit} noValidate>
              <label htmlFor={urlId} className="form-label">
                Marketplace URL
              </label>
              <input
                id={urlId}
                className="input mono"
                data-testid="market-url"
                type="url"
                inputMode="url"
                spellCheck={false}
                autoComplete="off"
                placeholder="https://market.example.com"
                value={address}
                onChange={(e) => setUrl(e.currentTarget.value)}
              />
              <label htmlFor={tokenId} className="form-label">
                API token
              </label>
              <input
                id={tokenId}
                className="input"
                data-testid="market-token"
                type="password"
                spellCheck={false}
                autoComplete="new-password"
                placeholder={signedIn ? "Paste a token to sign in again" : "Paste the token from your marketplace account"}
                value={token}
                onChange={(e) => setToken(e.currentTarget.value)}
              />
              <div className="button-row">
                <button
                  type="submit"
                  className="button button-primary"
                  data-testid="market-signin"
                  disabled={busy !== null || address.trim() === "" || token === ""}
                >
                  {busy === "signin" && <span className="spinner spinner-light" aria-hidden="true" />}
                  Sign in
                </button>
              </div>
            </form>
            {error && <ErrorAlert error={error} testId="market-signin-error" />}
          </>
        )}
      </div>
    </section>
  );
}

function MarketStatusLine({ status }: { status: MarketStatus | null }) {
  if (status === null) return <span className="skeleton skeleton-line w-40" aria-label="Loading the marketplace status" />;
  const synced = status.last_synced_at;
  return (
    <p className="small market-settings-status" data-testid="market-settings-status">
      {status.source === "bundled" ? (
        <span className="badge badge-gray">Built-in catalog</span>
      ) : (
        <span className="badge badge-green">Synced</span>
      )}{" "}
      {plural(status.cached, "capability", "capabilities")} in the offline catalog
      {synced && (
        <>
          {" · last synced "}
          <time dateTime={synced} title={formatExact(synced)}>
            {formatRelative(synced)}
          </time>
        </>
      )}
      {status.updates.length > 0 && ` · ${plural(status.updates.length, "update")} available`}
      {status.url === null && " · no marketplace set"}
    </p>
  );
}
