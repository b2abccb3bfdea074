// What the user does with one open capability, kept above the tabs so it survives switching
// them: the Run form and last result per action, the last test report, the configuration, the
// unsaved edits of each version's source, and a counter that tells the Activity tab to reload
// after a run or a test.
import { useCallback, useState } from "react";

import type { ConfigEntryView } from "../../generated/ConfigEntryView";
import type { RunReport } from "../../generated/RunReport";
import type { TestReport } from "../../generated/TestReport";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { useBackendQuery } from "../../lib/useBackendQuery";

/** A Run form field: text for text, number and JSON inputs; true/false/unset for a checkbox. */
export type FormValue = string | boolean | null;
export type FormValues = Record<string, FormValue>;

/**
 * A rejected call (the capability is gone, no backend, consent or revocation…) is not a failed run:
 * it is `failure`. `input` is what the last run was started with, so it can be run again as it was.
 */
export type RunSlot = { running: boolean; report: RunReport | null; failure: AppError | null; input: unknown };
export type TestSlot = { running: boolean; report: TestReport | null; failure: AppError | null };

/** Runs and forms belong to one version's action. */
export function slotKey(version: string, action: string): string {
  return JSON.stringify([version, action]);
}

export function useCapabilitySession(id: string) {
  const [forms, setForms] = useState<Record<string, FormValues>>({});
  const [runs, setRuns] = useState<Record<string, RunSlot>>({});
  const [tests, setTests] = useState<Record<string, TestSlot>>({});
  const [chosenAction, setChosenAction] = useState<Record<string, string>>({});
  const [activityGeneration, setActivityGeneration] = useState(0);
  // Edited source per version, only while it differs from the stored one.
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const [configGeneration, setConfigGeneration] = useState(0);

  const config = useBackendQuery<Array<ConfigEntryView>>(`${configGeneration}:${id}`, () =>
    invoke("config_list", { id }),
  );
  const reloadConfig = useCallback(() => setConfigGeneration((g) => g + 1), []);

  const setForm = useCallback((version: string, action: string, values: FormValues) => {
    setForms((all) => ({ ...all, [slotKey(version, action)]: values }));
  }, []);

  /** null drops the draft (the caller passes null once the text is back to the stored one). */
  const setDraft = useCallback((version: string, content: string | null) => {
    setDrafts((all) => {
      if (content === null) {
        if (!(version in all)) return all;
        const rest = { ...all };
        delete rest[version];
        return rest;
      }
      return all[version] === content ? all : { ...all, [version]: content };
    });
  }, []);

  const chooseAction = useCallback((version: string, action: string) => {
    setChosenAction((all) => ({ ...all, [version]: action }));
  }, []);

  const run = useCallback(
    async (version: string, action: string, input: unknown) => {
      const key = slotKey(version, action);
      setRuns((all) => ({
        ...all,
        [key]: { running: true, report: all[key]?.report ?? null, failure: null, input },
      }));
      try {
        const report = await invoke("run_action", { id, version, action, input });
        setRuns((all) => ({ ...all, [key]: { running: false, report, failure: null, input } }));
      } catch (reason) {
        setRuns((all) => ({ ...all, [key]: { running: false, report: null, failure: toAppError(reason), input } }));
      } finally {
        setActivityGeneration((g) => g + 1);
      }
    },
    [id],
  );

  const runTests = useCallback(
    async (version: string) => {
      setTests((all) => ({
        ...all,
        [version]: { running: true, report: all[version]?.report ?? null, failure: null },
      }));
      try {
        const report = await invoke("test_capability", { id, version });
        setTests((all) => ({ ...all, [version]: { running: false, report, failure: null } }));
      } catch (reason) {
        setTests((all) => ({ ...all, [version]: { running: false, report: null, failure: toAppError(reason) } }));
      } finally {
        setActivityGeneration((g) => g + 1);
      }
    },
    [id],
  );

  return {
    forms,
    setForm,
    runs,
    run,
    chosenAction,
    chooseAction,
    tests,
    runTests,
    config,
    reloadConfig,
    drafts,
    setDraft,
    activityGeneration,
  };
}

export type CapabilitySession = ReturnType<typeof useCapabilitySession>;
