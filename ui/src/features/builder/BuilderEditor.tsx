// One open document: the store that holds it, background work (live compile, autosave), the
// shortcuts, the top bar and the wizard's steps.
import { useCallback, useState } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import { Toast, type ToastMessage } from "../../components/Toast";
import { PublishDialog } from "../market/PublishDialog";
import { usePublishable } from "../market/usePublishable";
import type { FlowDoc } from "./model";
import { Stepper } from "./Stepper";
import { ActionsStep } from "./steps/ActionsStep";
import { BasicsStep } from "./steps/BasicsStep";
import { ConfigurationStep } from "./steps/ConfigurationStep";
import { TestStep } from "./steps/TestStep";
import type { Step } from "./steps";
import { createBuilderStore } from "./store";
import { BuilderHeader } from "./BuilderHeader";
import { BuilderStoreContext, useBuilder } from "./useBuilder";
import { useAutosave } from "./useAutosave";
import { useEditorShortcuts } from "./useEditorShortcuts";
import { useLiveCompile } from "./useLiveCompile";
import { useSaveActions } from "./useSaveActions";

/**
 * Compiles and autosaves as the document changes. A component of its own so that only it, not
 * the whole editor, renders on every edit (a drag edits the document every frame).
 */
function BackgroundWork() {
  useLiveCompile();
  useAutosave();
  return null;
}

type BuilderEditorProps = {
  doc: FlowDoc;
  isNew: boolean;
  /** A node of the first flow to select on opening (a template's API call or script). */
  selected?: string | null;
  onClose: () => void;
};

export function BuilderEditor({ doc, isNew, selected = null, onClose }: BuilderEditorProps) {
  // One store per opened document, for as long as the editor is open.
  const [store] = useState(() => createBuilderStore(doc, { isNew, selected }));
  return (
    <BuilderStoreContext value={store}>
      <EditorBody initialStep={isNew ? "basics" : "actions"} onClose={onClose} />
    </BuilderStoreContext>
  );
}

function EditorBody({ initialStep, onClose }: { initialStep: Step; onClose: () => void }) {
  const [step, setStep] = useState<Step>(initialStep);
  const [toast, setToast] = useState<ToastMessage | null>(null);
  const notify = useCallback((text: string) => setToast({ id: Date.now(), text, tone: "success" }), []);
  const dismissToast = useCallback((id: number) => setToast((t) => (t?.id === id ? null : t)), []);
  const saving = useSaveActions(notify);
  const [publishingTo, setPublishingTo] = useState<string | null>(null);
  const id = useBuilder((s) => s.doc.capability.id);
  const version = useBuilder((s) => s.doc.capability.version);
  const saved = saving.outcome?.kind === "saved" ? saving.outcome.summary : null;
  const marketSpec = usePublishable(id ?? "", version ?? "", saved && `${saved.id}@${saved.version}`, saving.outcome?.at ?? 0);

  useEditorShortcuts(saving.saveDraft);

  return (
    <div className="builder-editor" data-testid="builder-editor">
      <BackgroundWork />
      <BuilderHeader
        busy={saving.busy}
        outcome={saving.outcome}
        onSave={saving.saveDraft}
        onPublish={saving.publish}
        marketSpec={marketSpec}
        onPublishMarket={() => setPublishingTo(marketSpec)}
        onClose={onClose}
      />
      {saving.error && (
        <ErrorAlert error={saving.error} testId="builder-publish-error">
          {saving.error.kind === "tests_failing" && (
            <p className="small">Publishing runs the saved tests and needs every one to pass. The draft is saved.</p>
          )}
          <div className="alert-actions">
            {saving.error.kind === "tests_failing" && (
              <button type="button" className="button button-small" onClick={() => setStep("test")}>
                Open the Test step
              </button>
            )}
            <button type="button" className="button button-small" onClick={saving.dismiss}>
              Dismiss
            </button>
          </div>
        </ErrorAlert>
      )}
      {saving.outcome?.kind === "invalid" && (
        <div className="note note-row" role="alert" data-testid="builder-save-problems">
          <span>
            Not saved: the flow has {saving.outcome.errors} error{saving.outcome.errors === 1 ? "" : "s"}. Fix what the Problems
            list shows, then save again.
          </span>
          <span className="button-row">
            <button type="button" className="button button-small" onClick={() => setStep("actions")}>
              Show problems
            </button>
            <button type="button" className="button button-small button-ghost" onClick={saving.dismiss}>
              Dismiss
            </button>
          </span>
        </div>
      )}
      <Stepper step={step} onChange={setStep} />
      {step === "basics" && <BasicsStep />}
      {step === "actions" && <ActionsStep onGoToStep={setStep} />}
      {step === "configuration" && <ConfigurationStep />}
      {step === "test" && <TestStep />}
      {publishingTo !== null && <PublishDialog spec={publishingTo} onClose={() => setPublishingTo(null)} />}
      <Toast toast={toast} onDismiss={dismissToast} />
    </div>
  );
}
