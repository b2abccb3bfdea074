// Reaching the open editor's store from any component under it.
import { createContext, useContext } from "react";
import { useStore } from "zustand";

import type { BuilderState, BuilderStore } from "./store";

export const BuilderStoreContext = createContext<BuilderStore | null>(null);

/** The store itself, for event handlers that read the latest state (`getState()`). */
export function useBuilderStore(): BuilderStore {
  const store = useContext(BuilderStoreContext);
  if (store === null) throw new Error("useBuilder outside the builder editor");
  return store;
}

/** A slice of the editor state; the component renders again only when the slice changes. */
export function useBuilder<T>(selector: (state: BuilderState) => T): T {
  return useStore(useBuilderStore(), selector);
}
