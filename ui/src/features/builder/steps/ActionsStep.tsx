// Step 2: the flow of each action. The canvas (palette and tools over it), the inspector beside
// it, a test panel to open under it, and the problems and compiled manifest below.
import { ReactFlowProvider } from "@xyflow/react";
import { useState } from "react";

import { CompiledYaml } from "../CompiledYaml";
import { FlowCanvas } from "../FlowCanvas";
import { Inspector } from "../inspector/Inspector";
import { ProblemsList } from "../ProblemsList";
import type { Step } from "../steps";
import { TestPanel } from "../test/TestPanel";
import { useBuilder } from "../useBuilder";
import { ActionTabs } from "./ActionTabs";

export function ActionsStep({ onGoToStep }: { onGoToStep: (step: Step) => void }) {
  // React Flow starts afresh for each action's flow (viewport, measured sizes).
  const flowIndex = useBuilder((s) => s.doc.capability.flows.findIndex((f) => f.action === s.action));
  const [testOpen, setTestOpen] = useState(false);

  return (
    <section className="builder-step actions-step" aria-label="Actions">
      <ActionTabs />
      <div className="workspace">
        <div className="workspace-main">
          <ReactFlowProvider key={flowIndex}>
            <FlowCanvas />
          </ReactFlowProvider>
          <div className="canvas-test">
            <button
              type="button"
              className="canvas-test-toggle"
              data-testid="canvas-test-toggle"
              aria-expanded={testOpen}
              onClick={() => setTestOpen((o) => !o)}
            >
              <span aria-hidden="true">{testOpen ? "▾" : "▸"}</span> Test this action
            </button>
            {testOpen && <TestPanel compact />}
          </div>
          <div className="workspace-panes">
            <ProblemsList onGoToStep={onGoToStep} />
            <CompiledYaml />
          </div>
        </div>
        <Inspector />
      </div>
    </section>
  );
}
