// Save draft and Publish. Saving stores the document as a Draft capability when it compiles
// without errors (otherwise its problems show); publishing saves, then asks for the Published
// status, which runs the capability's tests and is refused while one fails.
import { useState } from "react";

import type { CapabilitySummary } from "../../generated/CapabilitySummary";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { useBuilderStore } from "./useBuilder";

export type SaveOutcome =
  | { kind: "saved"; summary: CapabilitySummary; published: boolean; at: number }
  /** The document did not compile: nothing was saved. */
  | { kind: "invalid"; errors: number; at: number };

export function useSaveActions(notify: (text: string) => void) {
  const store = useBuilderStore();
  const [busy, setBusy] = useState<"save" | "publish" | null>(null);
  const [outcome, setOutcome] = useState<SaveOutcome | null>(null);
  const [error, setError] = useState<AppError | null>(null);

  /** The saved capability, or null when the document has errors. */
  const save = async (): Promise<CapabilitySummary | null> => {
    const view = await invoke("builder_save", { doc: store.getState().doc });
    store.getState().setCompile(view.compile, { status: "done", at: Date.now(), error: null });
    if (view.summary === null) {
      const errors = view.compile.diagnostics.filter((d) => d.severity === "error").length;
      setOutcome({ kind: "invalid", errors, at: Date.now() });
    }
    return view.summary;
  };

  const run = async (what: "save" | "publish") => {
    if (busy !== null) return;
    setBusy(what);
    setError(null);
    try {
      const summary = await save();
      if (summary === null) return;
      if (what === "publish") {
        const published = await invoke("set_status", { id: summary.id, version: summary.version, status: "published" });
        setOutcome({ kind: "saved", summary: published, published: true, at: Date.now() });
        notify(`Published ${published.id}@${published.version}`);
      } else {
        setOutcome({ kind: "saved", summary, published: false, at: Date.now() });
        notify(`Saved ${summary.id}@${summary.version} as a draft`);
      }
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(null);
    }
  };

  return {
    busy,
    outcome,
    error,
    dismiss: () => {
      setError(null);
      setOutcome((o) => (o?.kind === "invalid" ? null : o));
    },
    saveDraft: () => void run("save"),
    publish: () => void run("publish"),
  };
}
