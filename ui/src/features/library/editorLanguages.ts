// The editor's language support, one chunk per source format, so a YAML capability never loads
// the JavaScript grammar. The Edit tab starts the load as it opens, beside the editor's own chunk;
// the editor takes it from here (synchronously once it has arrived).
import type { Extension } from "@codemirror/state";

import type { SourceFormatView } from "../../generated/SourceFormatView";

const LOADERS: Record<SourceFormatView, () => Promise<Extension>> = {
  js: () => import("@codemirror/lang-javascript").then((m) => m.javascript()),
  yaml: () => import("@codemirror/lang-yaml").then((m) => m.yaml()),
  json: () => import("@codemirror/lang-json").then((m) => m.json()),
};

const pending = new Map<SourceFormatView, Promise<Extension>>();
const loaded = new Map<SourceFormatView, Extension>();

/** The language support for `format`, loaded once. */
export function loadLanguage(format: SourceFormatView): Promise<Extension> {
  let promise = pending.get(format);
  if (promise === undefined) {
    promise = LOADERS[format]().then((extension) => {
      loaded.set(format, extension);
      return extension;
    });
    // A failed load may be tried again (the editor then simply has no highlighting).
    promise.catch(() => pending.delete(format));
    pending.set(format, promise);
  }
  return promise;
}

/** The language support for `format` if it has arrived already. */
export function loadedLanguage(format: SourceFormatView): Extension | undefined {
  return loaded.get(format);
}
