// One capability at one version (null: the latest), reloadable.
import { useCallback, useState } from "react";

import type { CapabilityDetail } from "../../generated/CapabilityDetail";
import { invoke } from "../../lib/backend";
import { useBackendQuery } from "../../lib/useBackendQuery";

export function useCapabilityDetail(id: string, version: string | null) {
  const [generation, setGeneration] = useState(0);
  const state = useBackendQuery<CapabilityDetail>(`${generation}:${id}@${version ?? ""}`, () =>
    invoke("get_capability", { id, version }),
  );
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { state, reload };
}
