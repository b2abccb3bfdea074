// Where the marketplace client stands (cache freshness, account, updates), reloadable. Cheap: the
// backend answers from the cache without the network.
import { useCallback, useState } from "react";

import type { MarketStatus } from "../../generated/MarketStatus";
import { invoke } from "../../lib/backend";
import { useBackendQuery } from "../../lib/useBackendQuery";

/** `refresh` reloads when it changes (e.g. on every page change, for the sidebar's badge). */
export function useMarketStatus(refresh: number | string = 0) {
  const [generation, setGeneration] = useState(0);
  const state = useBackendQuery<MarketStatus>(`market-status:${refresh}:${generation}`, () =>
    invoke("market_status", {}),
  );
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const status = state.status === "ready" ? state.value : state.status === "loading" ? state.previous : null;
  return { state, status, reload };
}
