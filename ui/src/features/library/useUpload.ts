// The upload workflow: read or locate a file, validate it, then save it to the library.
// A picked file is sent as content (validate_source/import_source); a native drop only gives a
// path, which the backend reads itself (validate_file/import_file).
import { useCallback, useRef, useState } from "react";

import type { ImportOutcome } from "../../generated/ImportOutcome";
import type { ValidationReport } from "../../generated/ValidationReport";
import { invoke } from "../../lib/backend";
import { readFailed, toAppError, type AppError } from "../../lib/errors";
import { baseName } from "../../lib/format";

export type UploadSource =
  | { type: "content"; fileName: string; content: string }
  | { type: "path"; fileName: string; path: string };

export type UploadState =
  | { phase: "idle" }
  | { phase: "validating"; fileName: string }
  | { phase: "failed"; fileName: string; error: AppError }
  | {
      phase: "report";
      source: UploadSource;
      report: ValidationReport;
      saving: boolean;
      saveError: AppError | null;
    };

type Loaded = { ok: true; source: UploadSource; report: ValidationReport } | { ok: false; error: AppError };

export type Upload = {
  state: UploadState;
  /** How many other files came with the last drop and were ignored (one file at a time). */
  ignoredCount: number;
  validateFile: (file: File, ignoredCount?: number) => Promise<void>;
  validatePath: (path: string, ignoredCount?: number) => Promise<void>;
  save: () => Promise<ImportOutcome | null>;
  reset: () => void;
};

export function useUpload(): Upload {
  const [state, setState] = useState<UploadState>({ phase: "idle" });
  const [ignoredCount, setIgnoredCount] = useState(0);
  // Each new file bumps the ticket; answers for an older ticket are dropped.
  const ticket = useRef(0);

  const run = useCallback(async (fileName: string, ignored: number, load: () => Promise<Loaded>) => {
    const mine = ++ticket.current;
    setIgnoredCount(ignored);
    setState({ phase: "validating", fileName });
    let loaded: Loaded;
    try {
      loaded = await load();
    } catch (reason) {
      loaded = { ok: false, error: toAppError(reason) };
    }
    if (mine !== ticket.current) return;
    setState(
      loaded.ok
        ? { phase: "report", source: loaded.source, report: loaded.report, saving: false, saveError: null }
        : { phase: "failed", fileName, error: loaded.error },
    );
  }, []);

  const validateFile = useCallback(
    (file: File, ignored = 0) =>
      run(file.name, ignored, async (): Promise<Loaded> => {
        let content: string;
        try {
          content = await file.text();
        } catch (reason) {
          return { ok: false, error: readFailed(file.name, reason) };
        }
        const source: UploadSource = { type: "content", fileName: file.name, content };
        const report = await invoke("validate_source", { fileName: file.name, content });
        return { ok: true, source, report };
      }),
    [run],
  );

  const validatePath = useCallback(
    (path: string, ignored = 0) =>
      run(baseName(path), ignored, async (): Promise<Loaded> => {
        const source: UploadSource = { type: "path", fileName: baseName(path), path };
        const report = await invoke("validate_file", { path });
        return { ok: true, source, report };
      }),
    [run],
  );

  const save = useCallback(async (): Promise<ImportOutcome | null> => {
    if (state.phase !== "report" || !state.report.valid || state.saving) return null;
    const { source } = state;
    const mine = ticket.current;
    setState({ ...state, saving: true, saveError: null });
    try {
      const outcome =
        source.type === "content"
          ? await invoke("import_source", { fileName: source.fileName, content: source.content })
          : await invoke("import_file", { path: source.path });
      if (mine === ticket.current) {
        ticket.current++;
        setState({ phase: "idle" });
      }
      return outcome;
    } catch (reason) {
      if (mine === ticket.current) {
        setState({ ...state, saving: false, saveError: toAppError(reason) });
      }
      return null;
    }
  }, [state]);

  const reset = useCallback(() => {
    ticket.current++;
    setIgnoredCount(0);
    setState({ phase: "idle" });
  }, []);

  return { state, ignoredCount, validateFile, validatePath, save, reset };
}
