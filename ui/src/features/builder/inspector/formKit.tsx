// What the per-kind inspector forms share: how a form changes its node's data, and a labelled row.
import type { ReactNode } from "react";

/** Sets one field of a node's data; an empty string or undefined leaves the field out. */
export type Setter<T> = <F extends keyof T>(field: F, value: T[F] | undefined | "") => void;

export type FormProps<T> = { nodeId: string; data: T; set: Setter<T> };

type InspectorFieldProps = { label: string; htmlFor?: string; hint?: ReactNode; children: ReactNode };

export function InspectorField({ label, htmlFor, hint, children }: InspectorFieldProps) {
  return (
    <div className="inspector-field">
      <label className="inspector-label" htmlFor={htmlFor}>
        {label}
      </label>
      {children}
      {hint && <p className="muted small inspector-hint">{hint}</p>}
    </div>
  );
}
