// The "Upload capability" modal: a drop zone with a real file input, the validation report,
// and "Save to library".
import type { ImportOutcome } from "../../generated/ImportOutcome";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Modal } from "../../components/Modal";
import { plural } from "../../lib/format";
import type { Upload } from "./useUpload";
import { ValidationReportView } from "./ValidationReportView";

export const ACCEPTED_EXTENSIONS = ".yaml,.yml,.json,.js";

type UploadDialogProps = {
  upload: Upload;
  dragging: boolean;
  onClose: () => void;
  onSaved: (outcome: ImportOutcome) => void;
};

export function UploadDialog({ upload, dragging, onClose, onSaved }: UploadDialogProps) {
  const { state } = upload;
  const canSave = state.phase === "report" && state.report.valid && !state.saving;
  const hasFile = state.phase !== "idle";

  const save = async () => {
    const outcome = await upload.save();
    if (outcome) onSaved(outcome);
  };

  return (
    <Modal
      title="Upload capability"
      description="Check a capability file before it goes into your library."
      onClose={onClose}
      testId="upload-dialog"
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-primary"
            data-testid="save-capability"
            disabled={!canSave}
            aria-busy={state.phase === "report" && state.saving}
            onClick={() => void save()}
          >
            {state.phase === "report" && state.saving ? "Saving…" : "Save to library"}
          </button>
        </>
      }
    >
      <div className={`dropzone${dragging ? " is-dragging" : ""}${hasFile ? " is-compact" : ""}`}>
        <span className="dropzone-icon" aria-hidden="true">
          {dragging ? "📥" : "📦"}
        </span>
        <div className="dropzone-text">
          <strong>{dragging ? "Drop to validate" : hasFile ? "Drop another file, or click to browse" : "Drop a capability file here"}</strong>
          {!hasFile && (
            <span>
              or <span className="link-like">browse</span> for a <code>.yaml</code>, <code>.yml</code>,{" "}
              <code>.json</code> or <code>.js</code> file
            </span>
          )}
        </div>
        {/* Stays in the DOM and enabled: it covers the zone (click to browse) and WebDriver fills it. */}
        <input
          type="file"
          className="dropzone-input"
          data-testid="upload-input"
          accept={ACCEPTED_EXTENSIONS}
          aria-label="Choose a capability file"
          onChange={(e) => {
            const input = e.currentTarget;
            const files = input.files;
            const file = files?.[0];
            if (file) void upload.validateFile(file, (files?.length ?? 1) - 1);
            // Let the same file be picked again after it was edited.
            input.value = "";
          }}
        />
      </div>

      {upload.ignoredCount > 0 && (
        <p className="note" data-testid="ignored-files">
          One file at a time: the first was checked and {plural(upload.ignoredCount, "other file")} ignored.
        </p>
      )}

      {state.phase === "validating" && (
        <div className="validating" data-testid="validating" aria-live="polite">
          <span className="spinner" aria-hidden="true" /> Validating <span className="mono">{state.fileName}</span>…
        </div>
      )}

      {state.phase === "failed" && (
        <ErrorAlert error={state.error} testId="upload-error">
          <p className="alert-where">
            File: <span className="mono">{state.fileName}</span>
          </p>
        </ErrorAlert>
      )}

      {state.phase === "report" && (
        <>
          <ValidationReportView report={state.report} fileName={state.source.fileName} />
          {state.saveError && <ErrorAlert error={state.saveError} testId="import-error" />}
        </>
      )}
    </Modal>
  );
}
