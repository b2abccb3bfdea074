// One listing's detail page: fresh reviews from the server when it answers, else the cache.
import { useCallback, useState } from "react";

import type { MarketDetail } from "../../generated/MarketDetail";
import { invoke } from "../../lib/backend";
import { useBackendQuery } from "../../lib/useBackendQuery";

/** `refreshKey` reloads when it changes (after a sync, an install). */
export function useMarketDetail(id: string, refreshKey: number) {
  const [generation, setGeneration] = useState(0);
  const state = useBackendQuery<MarketDetail>(`market-detail:${id}:${refreshKey}:${generation}`, () => invoke("market_detail", { id }));
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const detail = state.status === "ready" ? state.value : state.status === "loading" ? state.previous : null;
  return { state, detail, reload };
}
