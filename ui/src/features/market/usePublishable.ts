// Which saved version of the builder's document the marketplace could publish: the one just
// saved, else the document's id@version when the library holds it (a capability opened from the
// library, or saved in an earlier session). Null while nothing is saved.
import { invoke } from "../../lib/backend";
import { useBackendQuery } from "../../lib/useBackendQuery";
import { useDebouncedValue } from "../../lib/useDebouncedValue";

const CHECK_DELAY_MS = 400;

/** `savedSpec`: `id@version` saved in this session, if any; `savedAt` reloads after each save. */
export function usePublishable(id: string, version: string, savedSpec: string | null, savedAt: number): string | null {
  // The id follows the name while typing; wait until it settles before asking.
  const spec = useDebouncedValue(id !== "" && version !== "" ? `${id}@${version}` : "", CHECK_DELAY_MS);
  const found = useBackendQuery<boolean>(`publishable:${spec}#${savedAt}`, async () => {
    if (spec === "") return false;
    const at = spec.lastIndexOf("@");
    try {
      await invoke("get_capability", { id: spec.slice(0, at), version: spec.slice(at + 1) });
      return true;
    } catch {
      return false;
    }
  });
  if (savedSpec !== null) return savedSpec;
  return found.status === "ready" && found.value ? spec : null;
}
