// Step 4: try the flow with real inputs, keep runs as test cases, and publish (top bar) once they
// pass.
import { TestCases } from "../test/TestCases";
import { TestPanel } from "../test/TestPanel";

export function TestStep() {
  return (
    <section className="builder-step test-step" aria-label="Test">
      <TestPanel />
      <TestCases />
    </section>
  );
}
