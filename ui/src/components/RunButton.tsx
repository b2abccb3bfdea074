// The "▶ Run" submit button with its busy state, as every run form shows it.
export function RunButton({ running, disabled, testId }: { running: boolean; disabled: boolean; testId: string }) {
  return (
    <button type="submit" className="button button-primary" data-testid={testId} disabled={disabled} aria-busy={running}>
      {running ? (
        <>
          <span className="spinner spinner-light" aria-hidden="true" /> Running…
        </>
      ) : (
        <>
          <span aria-hidden="true">▶</span> Run
        </>
      )}
    </button>
  );
}
