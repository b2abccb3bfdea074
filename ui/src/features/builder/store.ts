// The editor's state for one open document (a zustand store per editor, handed down by context):
// the document and its undo history, the action on screen, the canvas selection and measured node
// sizes, and what the backend last said (compile, autosave, run). Components subscribe to the
// slices they draw, so a change to one node re-renders that node, not the canvas.
import { createStore } from "zustand/vanilla";

import type { CompileView } from "../../generated/CompileView";
import type { FlowRunView } from "../../generated/FlowRunView";
import type { AppError } from "../../lib/errors";
import type { FormValues } from "../library/useCapabilitySession";
import { computeMarks, NO_MARKS, type Marks } from "./marks";
import { flowOf, renameActionIn, withFlow, type Flow, type FlowDoc } from "./model";

/** Undo steps kept; older ones are dropped. */
const HISTORY_LIMIT = 200;
/** Edits with the same key this close together are one undo step (typing in one field). */
const COALESCE_WINDOW_MS = 1000;

export type Dims = { width: number; height: number };

export type RunState = {
  action: string;
  running: boolean;
  /** What the backend answered; a failing flow is `view.ok === false`, not `failure`. */
  view: FlowRunView | null;
  /** The call itself was rejected (no backend, invalid document…). */
  failure: AppError | null;
  input: unknown;
};

/** The live test form of one action: field values, and the same input as editable JSON. */
export type TestForm = { values: FormValues; json: string };

export type BackgroundState = { status: "idle" | "busy" | "done" | "error"; at: number | null; error: AppError | null };

export type BuilderState = {
  doc: FlowDoc;
  past: Array<FlowDoc>;
  future: Array<FlowDoc>;
  lastCommit: { key: string; at: number } | null;
  /** A new capability's id follows its name until the id is edited by hand. */
  idFollowsName: boolean;

  action: string;
  selectedNodes: ReadonlySet<string>;
  selectedEdges: ReadonlySet<string>;
  measured: ReadonlyMap<string, Dims>;
  /** Asks the canvas to centre a node (bumped `seq` repeats the request). */
  focus: { node: string; seq: number } | null;

  compile: CompileView | null;
  compileState: BackgroundState;
  autosave: BackgroundState;
  /** The document as last autosaved (at first, as opened), and the id it was saved under. */
  savedDoc: FlowDoc;
  savedId: string | null;
  run: RunState | null;
  marks: Marks;
  testForms: Record<string, TestForm>;

  /**
   * Applies an edit as one undo step. Edits passing the same `coalesce` key one after another
   * merge into one step: a drag (`drag:<n>`, however long) or typing in a field (within a second).
   */
  commit: (recipe: (doc: FlowDoc) => FlowDoc, coalesce?: string) => void;
  /** `commit` on the flow on screen. */
  updateFlow: (recipe: (flow: Flow) => Flow, coalesce?: string) => void;
  undo: () => void;
  redo: () => void;
  setIdFollowsName: (follows: boolean) => void;
  selectAction: (action: string) => void;
  /** Changes an action's id everywhere (action, flow, tests), staying on it. */
  renameAction: (from: string, to: string) => void;
  select: (nodes: ReadonlySet<string>, edges: ReadonlySet<string>) => void;
  setMeasured: (measured: ReadonlyMap<string, Dims>) => void;
  focusNode: (action: string, node: string) => void;
  setCompile: (compile: CompileView | null, state: BackgroundState) => void;
  setAutosave: (state: BackgroundState, saved?: FlowDoc) => void;
  setRun: (run: RunState | null) => void;
  setTestForm: (action: string, form: TestForm) => void;
};

export type BuilderStore = ReturnType<typeof createBuilderStore>;

const EMPTY: ReadonlySet<string> = new Set();
const IDLE: BackgroundState = { status: "idle", at: null, error: null };

/** Drops selected ids that an undo or redo took away. */
function prune(selected: ReadonlySet<string>, present: ReadonlyArray<{ id: string }>): ReadonlySet<string> {
  if (selected.size === 0) return selected;
  const ids = new Set(present.map((x) => x.id));
  const kept = [...selected].filter((id) => ids.has(id));
  return kept.length === selected.size ? selected : new Set(kept);
}

/**
 * `isNew`: a document made here, never saved (its id follows its name, and no draft of it exists
 * yet); otherwise one opened from a draft or the library. `selected`: a node of the first flow to
 * start with selected.
 */
export function createBuilderStore(doc: FlowDoc, { isNew, selected = null }: { isNew: boolean; selected?: string | null }) {
  const firstAction = doc.capability.flows[0]?.action ?? "run";
  return createStore<BuilderState>()((set, get) => {
    /** Moves to another document state from the history, keeping the selection valid. */
    const travel = (doc: FlowDoc, past: Array<FlowDoc>, future: Array<FlowDoc>) => {
      const s = get();
      const flow = flowOf(doc, s.action);
      const action = flow ? s.action : (doc.capability.flows[0]?.action ?? s.action);
      const nodes = flowOf(doc, action)?.nodes ?? [];
      const edges = flowOf(doc, action)?.edges ?? [];
      set({
        doc,
        past,
        future,
        lastCommit: null,
        action,
        selectedNodes: prune(s.selectedNodes, nodes),
        selectedEdges: prune(s.selectedEdges, edges),
        marks: action === s.action ? s.marks : computeMarks(s.compile, s.run, action),
      });
    };

    return {
      doc,
      past: [],
      future: [],
      lastCommit: null,
      idFollowsName: isNew,
      action: firstAction,
      selectedNodes: selected !== null && flowOf(doc, firstAction)?.nodes.some((n) => n.id === selected) ? new Set([selected]) : EMPTY,
      selectedEdges: EMPTY,
      measured: new Map(),
      focus: null,
      compile: null,
      compileState: IDLE,
      autosave: IDLE,
      savedDoc: doc,
      savedId: isNew ? null : doc.capability.id,
      run: null,
      marks: NO_MARKS,
      testForms: {},

      commit: (recipe, coalesce) => {
        const s = get();
        const next = recipe(s.doc);
        if (next === s.doc) return;
        const now = Date.now();
        const merge =
          coalesce !== undefined &&
          s.lastCommit?.key === coalesce &&
          (coalesce.startsWith("drag:") || now - s.lastCommit.at < COALESCE_WINDOW_MS);
        set({
          doc: next,
          past: merge ? s.past : [...s.past, s.doc].slice(-HISTORY_LIMIT),
          future: [],
          lastCommit: coalesce === undefined ? null : { key: coalesce, at: now },
        });
      },
      updateFlow: (recipe, coalesce) => {
        const { action, commit } = get();
        commit((doc) => withFlow(doc, action, recipe), coalesce);
      },
      undo: () => {
        const { past, future, doc } = get();
        const previous = past[past.length - 1];
        if (previous === undefined) return;
        travel(previous, past.slice(0, -1), [doc, ...future]);
      },
      redo: () => {
        const { past, future, doc } = get();
        const [next, ...rest] = future;
        if (next === undefined) return;
        travel(next, [...past, doc], rest);
      },
      setIdFollowsName: (idFollowsName) => set({ idFollowsName }),
      selectAction: (action) => {
        const s = get();
        if (action === s.action) return;
        set({
          action,
          selectedNodes: EMPTY,
          selectedEdges: EMPTY,
          measured: new Map(),
          marks: computeMarks(s.compile, s.run, action),
        });
      },
      renameAction: (from, to) => {
        const s = get();
        s.commit((doc) => renameActionIn(doc, from, to), "action-id");
        if (s.action === from) set({ action: to, marks: computeMarks(s.compile, s.run, to) });
      },
      select: (selectedNodes, selectedEdges) => set({ selectedNodes, selectedEdges }),
      setMeasured: (measured) => set({ measured }),
      focusNode: (action, node) => {
        const s = get();
        s.selectAction(action);
        set({ selectedNodes: new Set([node]), selectedEdges: EMPTY, focus: { node, seq: (s.focus?.seq ?? 0) + 1 } });
      },
      setCompile: (compile, compileState) => {
        const s = get();
        set({ compile, compileState, marks: computeMarks(compile, s.run, s.action) });
      },
      setAutosave: (autosave, saved) =>
        set(saved ? { autosave, savedDoc: saved, savedId: saved.capability.id } : { autosave }),
      setRun: (run) => {
        const s = get();
        set({ run, marks: computeMarks(s.compile, run, s.action) });
      },
      setTestForm: (action, form) => set((s) => ({ testForms: { ...s.testForms, [action]: form } })),
    };
  });
}

/** The flow on screen. */
export function selectFlow(s: BuilderState): Flow | undefined {
  return flowOf(s.doc, s.action);
}
