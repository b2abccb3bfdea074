// Publishing a saved capability to the marketplace: one attempt at a time, its progress (tests,
// packaging, signing, upload), and what came of it.
import { useState } from "react";

import type { PublishView } from "../../generated/PublishView";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { useMarketProgress } from "./useMarketProgress";

/** `null` fields keep what the marketplace has (a first version: private and free). */
export type PublishRequest = { visibility: string | null; org: string | null; priceCents: number | null };

export function usePublish(spec: string) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [result, setResult] = useState<PublishView | null>(null);
  const { progress, start, stop } = useMarketProgress("publish");

  const publish = async (request: PublishRequest) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    setResult(null);
    start();
    try {
      setResult(await invoke("market_publish", { spec, ...request }));
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(false);
      stop();
    }
  };

  return { busy, error, result, progress, publish };
}

/** Dollars as typed ("9", "9.5", "$9.99") in cents, or null when it is not an amount. */
export function parseDollars(text: string): number | null {
  const trimmed = text.trim().replace(/^\$/, "");
  if (trimmed === "") return 0;
  if (!/^\d+(\.\d{0,2})?$/.test(trimmed)) return null;
  return Math.round(Number.parseFloat(trimmed) * 100);
}
