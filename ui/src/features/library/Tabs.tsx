// Accessible tabs (WAI-ARIA tabs pattern): arrow keys, Home and End move between tabs.
import { useId, useRef, type KeyboardEvent, type ReactNode } from "react";

export type TabSpec<K extends string> = {
  key: K;
  label: string;
  count?: number;
  /** The count asks for attention (e.g. required configuration not set). */
  attention?: string;
  /** Starts a new group: a divider before it. */
  groupStart?: boolean;
};

type TabsProps<K extends string> = {
  tabs: Array<TabSpec<K>>;
  active: K;
  onChange: (key: K) => void;
  label: string;
  children: ReactNode;
};

function groups<K extends string>(tabs: Array<TabSpec<K>>): Array<Array<TabSpec<K>>> {
  const out: Array<Array<TabSpec<K>>> = [];
  for (const tab of tabs) {
    const last = out[out.length - 1];
    if (last === undefined || tab.groupStart) out.push([tab]);
    else last.push(tab);
  }
  return out;
}

export function Tabs<K extends string>({ tabs, active, onChange, label, children }: TabsProps<K>) {
  const baseId = useId();
  const listRef = useRef<HTMLDivElement>(null);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const index = tabs.findIndex((t) => t.key === active);
    let next = index;
    if (e.key === "ArrowRight") next = (index + 1) % tabs.length;
    else if (e.key === "ArrowLeft") next = (index - 1 + tabs.length) % tabs.length;
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = tabs.length - 1;
    else return;
    e.preventDefault();
    const tab = tabs[next];
    if (!tab) return;
    onChange(tab.key);
    listRef.current?.querySelector<HTMLButtonElement>(`[data-tab="${tab.key}"]`)?.focus();
  };

  return (
    <div className="tabs">
      <div className="tab-list" role="tablist" aria-label={label} ref={listRef} onKeyDown={onKeyDown}>
        {groups(tabs).map((group, g) => (
          // Each group wraps to a new line as a whole, never split in the middle.
          <div key={g} className={`tab-group${g > 0 ? " tab-group-start" : ""}`} role="presentation">
            {group.map((tab) => {
              const selected = tab.key === active;
              return (
                <button
                  key={tab.key}
                  type="button"
                  role="tab"
                  id={`${baseId}-tab-${tab.key}`}
                  aria-selected={selected}
                  aria-controls={`${baseId}-panel`}
                  tabIndex={selected ? 0 : -1}
                  className="tab"
                  data-tab={tab.key}
                  data-testid={`tab-${tab.key}`}
                  title={tab.attention}
                  onClick={() => onChange(tab.key)}
                >
                  {tab.label}
                  {tab.count !== undefined && (
                    <span className={`tab-count${tab.attention ? " tab-count-attention" : ""}`}>
                      {tab.count}
                      {tab.attention && <span className="visually-hidden"> ({tab.attention})</span>}
                    </span>
                  )}
                </button>
              );
            })}
          </div>
        ))}
      </div>
      <div
        className="tab-panel"
        role="tabpanel"
        id={`${baseId}-panel`}
        aria-labelledby={`${baseId}-tab-${active}`}
        data-testid={`panel-${active}`}
      >
        {children}
      </div>
    </div>
  );
}
