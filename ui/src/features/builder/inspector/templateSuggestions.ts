// What a template (`${…}`) in the selected node may name: the action's inputs, configuration
// keys, and the outputs of nodes upstream of it. Offered by TemplateField after `${`.
import { createContext, useContext } from "react";

import { upstreamOf } from "../graph";
import type { ConfigItem, Flow, FlowField } from "../model";

export type Suggestion = {
  /** What replaces the typed part after `${`. */
  insert: string;
  label: string;
  detail: string;
};

/**
 * `id kind` of each node upstream of `nodeId`, nearest first, leaving out the Input node (its
 * values are reached as `input.<field>`). Strings, so a store selector can compare them shallowly.
 */
export function upstreamKinds(flow: Flow | undefined, nodeId: string): Array<string> {
  if (!flow) return [];
  return upstreamOf(flow, nodeId)
    .filter((n) => n.type !== "input")
    .map((n) => `${n.id} ${n.type}`);
}

export function templateSuggestions(
  inputs: ReadonlyArray<FlowField>,
  configuration: ReadonlyArray<ConfigItem>,
  upstream: ReadonlyArray<string>,
): Array<Suggestion> {
  const out: Array<Suggestion> = [];
  for (const field of inputs) {
    if (field.name === "") continue;
    out.push({ insert: `input.${field.name}}`, label: `input.${field.name}`, detail: `input · ${field.type}` });
  }
  for (const item of configuration) {
    if (item.key === "") continue;
    out.push({ insert: `${item.key}}`, label: item.key, detail: `configuration · ${item.type ?? "string"}` });
  }
  for (const entry of upstream) {
    const [id = "", kind = ""] = entry.split(" ");
    // Left open: the path into the node's output comes next.
    out.push({ insert: `${id}.`, label: id, detail: `output of ${kind}` });
  }
  return out;
}

export const SuggestionsContext = createContext<ReadonlyArray<Suggestion>>([]);

export function useSuggestions(): ReadonlyArray<Suggestion> {
  return useContext(SuggestionsContext);
}

/** The part typed after an unclosed `${` just before the caret, or null when there is none. */
export function openTemplate(textBeforeCaret: string): string | null {
  const match = /\$\{([^{}\s]*)$/.exec(textBeforeCaret);
  return match ? (match[1] ?? "") : null;
}

/** Suggestions matching what was typed: prefix matches first, then the rest containing it. */
export function filterSuggestions(all: ReadonlyArray<Suggestion>, typed: string): Array<Suggestion> {
  const q = typed.toLowerCase();
  const starts = all.filter((s) => s.label.toLowerCase().startsWith(q));
  const contains = all.filter((s) => !s.label.toLowerCase().startsWith(q) && s.label.toLowerCase().includes(q));
  return [...starts, ...contains].slice(0, 10);
}
