// "Connect API": turn an OpenAPI 3.0/3.1 document (a URL, or a file) into an API-connector
// capability. The backend fetches URLs under the network guard and validates the result like
// any upload.
import { useState, type FormEvent } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import { Modal } from "../../components/Modal";
import type { ImportOutcome } from "../../generated/ImportOutcome";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";

type ConnectApiDialogProps = {
  onClose: () => void;
  onImported: (outcome: ImportOutcome) => void;
};

export function ConnectApiDialog({ onClose, onImported }: ConnectApiDialogProps) {
  const [url, setUrl] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [id, setId] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const chosenId = id.trim() === "" ? null : id.trim();
    try {
      const outcome = file
        ? await invoke("import_openapi_text", { fileName: file.name, content: await file.text(), id: chosenId })
        : await invoke("import_openapi", { source: url.trim(), id: chosenId });
      onImported(outcome);
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(false);
    }
  };

  const ready = file !== null || /^https?:\/\//.test(url.trim());
  return (
    <Modal
      title="Connect an API"
      description="Import an OpenAPI 3.0 or 3.1 document: every operation becomes an action of a new API connector."
      onClose={onClose}
      size="small"
      testId="connect-api-dialog"
    >
      <form className="form-stack" onSubmit={(e) => void submit(e)}>
        <label className="field">
          <span className="field-label">Document URL</span>
          <input
            type="url"
            className="input"
            placeholder="https://api.example.com/openapi.json"
            value={url}
            disabled={file !== null}
            onChange={(e) => setUrl(e.target.value)}
            data-testid="openapi-url"
            data-autofocus
          />
        </label>
        <label className="field">
          <span className="field-label">…or a file</span>
          <input
            type="file"
            accept=".json,.yaml,.yml"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            data-testid="openapi-file"
          />
        </label>
        <label className="field">
          <span className="field-label">Capability id (optional)</span>
          <input
            type="text"
            className="input"
            placeholder="from the API's title"
            value={id}
            onChange={(e) => setId(e.target.value)}
            data-testid="openapi-id"
          />
        </label>
        {error && <ErrorAlert error={error} testId="openapi-error" />}
        <div className="modal-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={!ready || busy} data-testid="openapi-import">
            {busy ? "Importing…" : "Import"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
