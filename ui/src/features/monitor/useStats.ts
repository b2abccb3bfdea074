// Usage figures (`stats`) for a scope and a window of days, reloadable, like `useRuns`.
import { useCallback, useState } from "react";

import type { StatsView } from "../../generated/StatsView";
import { invoke } from "../../lib/backend";
import { useBackendQuery } from "../../lib/useBackendQuery";
import { scopeValue, statsArgs, type UsageScope } from "./usageScope";

/** `refresh` changes whenever the caller wants a fresh read (a page visit, a Refresh click, a run). */
export function useStats(scope: UsageScope, days: number, refresh: number) {
  const [generation, setGeneration] = useState(0);
  const state = useBackendQuery<StatsView>(`${refresh}:${generation}:${scopeValue(scope)}:${days}`, () =>
    invoke("stats", statsArgs(scope, days)),
  );
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { state, reload };
}
