// Keeps the marketplace cache fresh while the app is open: a quiet sync shortly after start and
// then every 15 minutes, so browsing (also offline) and the update count are recent without the
// user asking. Failures stay quiet here: the Marketplace page says when it is offline.
import { useEffect } from "react";

import { invoke } from "../../lib/backend";

const FIRST_AFTER_MS = 3_000;
const EVERY_MS = 15 * 60_000;

export function useBackgroundSync(onSynced: () => void) {
  useEffect(() => {
    let stopped = false;
    const run = async () => {
      try {
        const status = await invoke("market_status", {});
        if (stopped || status.url === null) return;
        const report = await invoke("market_sync", { full: false });
        if (!stopped && !report.unchanged) onSynced();
      } catch {
        // Offline, no marketplace set, or no backend: the next round tries again.
      }
    };
    const first = window.setTimeout(() => void run(), FIRST_AFTER_MS);
    const every = window.setInterval(() => void run(), EVERY_MS);
    return () => {
      stopped = true;
      window.clearTimeout(first);
      window.clearInterval(every);
    };
  }, [onSynced]);
}
