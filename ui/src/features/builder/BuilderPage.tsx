// The Builder section: the drafts, or the editor on one document (new, a draft, or a capability
// opened from the library with "Open in builder").
import { useState } from "react";

import { LoadFailed } from "../library/LibraryStates";
import { invoke } from "../../lib/backend";
import { useBackendQuery } from "../../lib/useBackendQuery";
import { BuilderEditor } from "./BuilderEditor";
import { DraftList } from "./DraftList";
import { normaliseDoc, slugify, type FlowDoc } from "./model";
import { TemplateChooser } from "./TemplateChooser";
import { templateDoc } from "./templates";

/** A capability to open in the builder; `version: null` opens the draft of `id`. */
export type BuilderOpenRequest = { id: string; version: string | null };

type Target =
  | { kind: "open"; request: BuilderOpenRequest; seq: number }
  | { kind: "new"; doc: FlowDoc; selected: string | null; seq: number };

const NEW_NAME = "New capability";

/** "new-capability", or "new-capability-2" and on when drafts already use it. */
function freshId(taken: ReadonlyArray<string>): string {
  const base = slugify(NEW_NAME);
  let id = base;
  for (let n = 2; taken.includes(id); n++) id = `${base}-${n}`;
  return id;
}

let seq = 0;

export function BuilderPage({ open = null }: { open?: BuilderOpenRequest | null }) {
  const [target, setTarget] = useState<Target | null>(() => (open ? { kind: "open", request: open, seq: ++seq } : null));
  // "New capability" asks for a starting point first; this holds the draft ids taken meanwhile.
  const [choosing, setChoosing] = useState<ReadonlyArray<string> | null>(null);
  const close = () => setTarget(null);

  if (target === null) {
    return (
      <>
        <DraftList onOpen={(id) => setTarget({ kind: "open", request: { id, version: null }, seq: ++seq })} onNew={setChoosing} />
        {choosing !== null && (
          <TemplateChooser
            onClose={() => setChoosing(null)}
            onChoose={(template) => {
              const { doc, selected } = templateDoc(template, NEW_NAME, freshId(choosing));
              setChoosing(null);
              setTarget({ kind: "new", doc, selected, seq: ++seq });
            }}
          />
        )}
      </>
    );
  }
  if (target.kind === "new") {
    return <BuilderEditor key={target.seq} doc={target.doc} isNew selected={target.selected} onClose={close} />;
  }
  return <OpenedEditor key={target.seq} request={target.request} onClose={close} />;
}

function OpenedEditor({ request, onClose }: { request: BuilderOpenRequest; onClose: () => void }) {
  const [attempt, setAttempt] = useState(0);
  const opened = useBackendQuery(`${request.id}@${request.version ?? "draft"}#${attempt}`, () =>
    invoke("builder_open", { id: request.id, version: request.version }).then(normaliseDoc),
  );
  if (opened.status === "ready") return <BuilderEditor doc={opened.value} isNew={false} onClose={onClose} />;
  return (
    <div className="page">
      <div className="detail-topbar">
        <button type="button" className="button button-ghost" data-testid="builder-close" onClick={onClose}>
          ← Drafts
        </button>
      </div>
      {opened.status === "error" ? (
        <LoadFailed error={opened.error} onRetry={() => setAttempt((a) => a + 1)} />
      ) : (
        <div className="state" role="status" data-testid="builder-opening">
          <span className="spinner" aria-hidden="true" />
          <p>
            Opening <span className="mono">{request.id}</span>…
          </p>
        </div>
      )}
    </div>
  );
}
