// Loads data from the backend for a key and keeps the last result while a new key loads, so a
// search or a refresh does not blank the screen. Change the key to load again.
import { useEffect, useEffectEvent, useState } from "react";

import { toAppError, type AppError } from "./errors";

export type QueryState<T> =
  | { status: "loading"; previous: T | null }
  | { status: "ready"; value: T }
  | { status: "error"; error: AppError };

type Settled<T> = { key: string } & ({ ok: true; value: T } | { ok: false; error: AppError });

export function useBackendQuery<T>(key: string, load: () => Promise<T>): QueryState<T> {
  const [settled, setSettled] = useState<Settled<T> | null>(null);
  const run = useEffectEvent(load);

  useEffect(() => {
    let live = true;
    run().then(
      (value) => {
        if (live) setSettled({ key, ok: true, value });
      },
      (reason: unknown) => {
        if (live) setSettled({ key, ok: false, error: toAppError(reason) });
      },
    );
    return () => {
      live = false;
    };
  }, [key]);

  if (settled === null) return { status: "loading", previous: null };
  if (settled.key !== key) {
    return { status: "loading", previous: settled.ok ? settled.value : null };
  }
  return settled.ok
    ? { status: "ready", value: settled.value }
    : { status: "error", error: settled.error };
}
