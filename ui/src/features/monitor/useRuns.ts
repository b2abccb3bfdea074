// The audit log (one capability's, or everyone's), reloadable; newest first.
import { useCallback, useState } from "react";

import type { ExecutionView } from "../../generated/ExecutionView";
import { invoke } from "../../lib/backend";
import { useBackendQuery } from "../../lib/useBackendQuery";

/** Changes whenever the caller wants a fresh read (after a run, a test, a Refresh click). */
export function useRuns(id: string | null, limit: number, refresh: number) {
  const [generation, setGeneration] = useState(0);
  const state = useBackendQuery<Array<ExecutionView>>(`${refresh}:${generation}:${id ?? "*"}:${limit}`, () =>
    invoke("list_runs", { id, limit }),
  );
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { state, reload };
}
