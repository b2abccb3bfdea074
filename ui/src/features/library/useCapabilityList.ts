// The library listing for a search query, reloadable after a save or removal.
import { useCallback, useState } from "react";

import type { CapabilitySummary } from "../../generated/CapabilitySummary";
import { invoke } from "../../lib/backend";
import { useBackendQuery } from "../../lib/useBackendQuery";

export type Listing = { query: string; items: Array<CapabilitySummary> };

export function useCapabilityList(query: string) {
  const [generation, setGeneration] = useState(0);
  const trimmed = query.trim();
  const state = useBackendQuery<Listing>(`${generation}:${trimmed}`, async () => ({
    query: trimmed,
    items: await invoke("list_capabilities", { query: trimmed === "" ? null : trimmed }),
  }));
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { state, reload };
}
