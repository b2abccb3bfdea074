// The cards for the page's filters, from the offline cache; the "Your Custom Capabilities" tab
// asks for the private and organization listings only.
import type { MarketPage } from "../../generated/MarketPage";
import { invoke } from "../../lib/backend";
import { useBackendQuery, type QueryState } from "../../lib/useBackendQuery";
import { toQuery, type MarketFilters } from "./marketFormat";

export function useMarketSearch(filters: MarketFilters, generation: number): QueryState<MarketPage> {
  return useBackendQuery<MarketPage>(`${JSON.stringify(filters)}#${generation}`, () =>
    invoke("market_search", { query: toQuery(filters) }),
  );
}
