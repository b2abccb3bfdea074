// Bringing the offline cache up to date: one sync at a time, its progress, and whether the last
// attempt found the marketplace unreachable (the page then says it is offline).
import { useCallback, useRef, useState } from "react";

import type { SyncReport } from "../../generated/SyncReport";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { useMarketProgress } from "./useMarketProgress";

export function useMarketSync(onSynced: () => void) {
  const [syncing, setSyncing] = useState(false);
  /** The `market_unreachable` error of the last attempt, while the marketplace cannot be reached. */
  const [offline, setOffline] = useState<AppError | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [report, setReport] = useState<SyncReport | null>(null);
  const { progress, start, stop } = useMarketProgress("sync");
  const running = useRef(false);

  /** `auto`: the sync on opening the page, whose failures stay quiet unless they need the user. */
  const sync = useCallback(
    async (auto = false) => {
      if (running.current) return;
      running.current = true;
      setSyncing(true);
      setError(null);
      start();
      try {
        setReport(await invoke("market_sync", { full: false }));
        setOffline(null);
      } catch (reason) {
        const e = toAppError(reason);
        if (e.kind === "market_unreachable") setOffline(e);
        else if (!(auto && e.kind === "no_backend")) setError(e);
        setReport(null);
      } finally {
        running.current = false;
        setSyncing(false);
        stop();
        onSynced();
      }
    },
    [onSynced, start, stop],
  );

  const dismissError = useCallback(() => setError(null), []);
  return { syncing, offline, error, report, progress, sync, dismissError };
}
