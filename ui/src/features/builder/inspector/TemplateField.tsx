// A text field for templates: typing `${` opens a list of what may be named there (inputs,
// configuration keys, upstream nodes), filtered as you type. ↑/↓ move, Enter or Tab inserts,
// Esc closes; a click inserts too. An ARIA combobox over a plain input or textarea.
import { useId, useRef, useState, type KeyboardEvent, type SyntheticEvent } from "react";

import { filterSuggestions, openTemplate, useSuggestions, type Suggestion } from "./templateSuggestions";

type TemplateFieldProps = {
  value: string;
  onChange: (value: string) => void;
  testId: string;
  multiline?: boolean;
  placeholder?: string;
  id?: string;
  label?: string;
  invalid?: boolean;
};

type Open = { typed: string; active: number };

export function TemplateField({ value, onChange, testId, multiline = false, placeholder, id, label, invalid }: TemplateFieldProps) {
  const all = useSuggestions();
  const [open, setOpen] = useState<Open | null>(null);
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const listId = useId();
  const options = open ? filterSuggestions(all, open.typed) : [];
  const shown = open !== null && options.length > 0;
  const active = shown ? Math.min(open.active, options.length - 1) : -1;

  /** Opens, updates or closes the list from the text before the caret. */
  const track = (el: HTMLInputElement | HTMLTextAreaElement) => {
    const caret = el.selectionStart ?? el.value.length;
    const typed = el.selectionEnd === caret ? openTemplate(el.value.slice(0, caret)) : null;
    setOpen((prev) => (typed === null ? null : { typed, active: prev?.typed === typed ? prev.active : 0 }));
  };

  const insert = (s: Suggestion) => {
    const el = ref.current;
    if (!el || !open) return;
    const caret = el.selectionStart ?? value.length;
    const before = value.slice(0, caret - open.typed.length);
    let after = value.slice(caret);
    // Completing inside an existing `${…}` must not leave a second closing brace.
    if (s.insert.endsWith("}") && after.startsWith("}")) after = after.slice(1);
    const next = before + s.insert + after;
    const at = before.length + s.insert.length;
    onChange(next);
    setOpen(null);
    // After React has written the new value.
    window.requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(at, at);
    });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement | HTMLTextAreaElement>) => {
    if (!shown) return;
    const choice = options[active];
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      setOpen({ typed: open.typed, active: (active + step + options.length) % options.length });
    } else if ((e.key === "Enter" || e.key === "Tab") && choice) {
      e.preventDefault();
      insert(choice);
    } else if (e.key === "Escape") {
      // Only the list closes; Esc does not reach page shortcuts.
      e.preventDefault();
      e.stopPropagation();
      setOpen(null);
    }
  };

  const common = {
    id,
    ref,
    value,
    placeholder,
    "aria-label": label,
    "data-testid": testId,
    className: `input mono${multiline ? " textarea" : ""}${invalid ? " is-invalid" : ""}`,
    spellCheck: false,
    autoComplete: "off",
    role: "combobox",
    "aria-autocomplete": "list" as const,
    "aria-expanded": shown,
    "aria-controls": shown ? listId : undefined,
    "aria-activedescendant": shown ? `${listId}-${active}` : undefined,
    onChange: (e: SyntheticEvent<HTMLInputElement | HTMLTextAreaElement>) => {
      onChange(e.currentTarget.value);
      track(e.currentTarget);
    },
    onSelect: (e: SyntheticEvent<HTMLInputElement | HTMLTextAreaElement>) => track(e.currentTarget),
    onKeyDown,
    // Leaving the field closes the list (a click on an option lands first: it uses mousedown).
    onBlur: () => setOpen(null),
  };

  return (
    <div className="template-field">
      {multiline ? <textarea rows={3} {...common} /> : <input type="text" {...common} />}
      {shown && (
        <ul className="suggestions" role="listbox" id={listId} data-testid="template-suggestions">
          {options.map((s, i) => (
            <li
              key={s.label}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className={`suggestion${i === active ? " is-active" : ""}`}
              data-testid="template-suggestion"
              data-value={s.label}
              onMouseDown={(e) => {
                // Keep focus (and the caret) in the field.
                e.preventDefault();
                insert(s);
              }}
            >
              <span className="mono">{s.label}</span>
              <span className="muted small">{s.detail}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
