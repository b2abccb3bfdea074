// The latest `market-progress` event of one task (sync, publish, install), recorded only between
// `start()` and `stop()` so a late event from finished work does not bring a bar back.
import { useCallback, useEffect, useRef, useState } from "react";

import type { MarketProgress } from "../../generated/MarketProgress";
import { onMarketProgress } from "../../lib/backend";

export function useMarketProgress(task: "sync" | "publish" | "install") {
  const [progress, setProgress] = useState<MarketProgress | null>(null);
  const active = useRef(false);

  useEffect(
    () =>
      onMarketProgress((p) => {
        if (active.current && p.task === task) setProgress(p);
      }),
    [task],
  );

  const start = useCallback(() => {
    active.current = true;
    setProgress(null);
  }, []);
  const stop = useCallback(() => {
    active.current = false;
    setProgress(null);
  }, []);
  return { progress, start, stop };
}
