// The window's frame: a sidebar of sections and the active page. Pages that are not built yet
// are listed, disabled, as "soon".
import { lazy, Suspense, useCallback, useState } from "react";

import { AgentsPage } from "./features/agents/AgentsPage";
import type { BuilderOpenRequest } from "./features/builder/BuilderPage";
import { LibraryPage, type OpenRequest } from "./features/library/LibraryPage";
import { MarketplacePage } from "./features/market/MarketplacePage";
import { useBackgroundSync } from "./features/market/useBackgroundSync";
import { useMarketStatus } from "./features/market/useMarketStatus";
import { ActivityPage } from "./features/monitor/ActivityPage";
import { SettingsPage } from "./features/settings/SettingsPage";
import { invoke } from "./lib/backend";
import { useBackendQuery } from "./lib/useBackendQuery";

// The builder (React Flow and its editor) is its own chunk, loaded when the section first opens.
const BuilderPage = lazy(() => import("./features/builder/BuilderPage").then((m) => ({ default: m.BuilderPage })));

type Page = "library" | "activity" | "builder" | "marketplace" | "agents" | "settings";

type Section =
  | { key: Page; label: string; icon: string; ready: true }
  | { key: string; label: string; icon: string; ready: false };

const SECTIONS: Array<Section> = [
  { key: "library", label: "My Capabilities", icon: "🧰", ready: true },
  { key: "activity", label: "Activity", icon: "📈", ready: true },
  { key: "builder", label: "Builder", icon: "🛠️", ready: true },
  { key: "marketplace", label: "Marketplace", icon: "🛍️", ready: true },
  { key: "agents", label: "Agents", icon: "🤖", ready: true },
];

/** Kept apart at the bottom of the sidebar, as settings usually are. */
const SETTINGS: Section = { key: "settings", label: "Settings", icon: "⚙️", ready: true };

export function App() {
  const [page, setPage] = useState<Page>("library");
  // Bumped to show a page afresh: the library's list when its entry is clicked again, or a
  // capability opened from the Activity page.
  const [visit, setVisit] = useState(0);
  const [open, setOpen] = useState<OpenRequest | null>(null);
  const [openInBuilder, setOpenInBuilder] = useState<BuilderOpenRequest | null>(null);
  // The Marketplace entry counts installed capabilities with updates; asked again on every page
  // change and whenever the marketplace page changes something.
  const [marketChanges, setMarketChanges] = useState(0);
  const updates = useMarketStatus(`${visit}:${marketChanges}`).status?.updates.length ?? 0;
  const onMarketChanged = useCallback(() => setMarketChanges((n) => n + 1), []);
  useBackgroundSync(onMarketChanged);
  // While the user has opted out of the sandbox's confinement check, every page says so.
  const settings = useBackendQuery(`settings#${visit}`, () => invoke("get_settings", {}));
  const unconfined =
    settings.status === "ready" &&
    settings.value.some((s) => s.key === "sandbox.allow_unconfined" && s.value === true);

  const go = (next: Page) => {
    setOpen(null);
    setOpenInBuilder(null);
    setPage(next);
    setVisit((v) => v + 1);
  };
  const buildCapability = (id: string, version: string) => {
    setOpenInBuilder({ id, version });
    setPage("builder");
    setVisit((v) => v + 1);
  };
  const openCapability = (id: string) => {
    setOpen({ id, tab: "activity" });
    setPage("library");
    setVisit((v) => v + 1);
  };

  return (
    <div className="app">
      <nav className="sidebar" aria-label="Sections">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ⚒️
          </span>
          <span className="brand-name">Capsmith</span>
        </div>
        <ul className="nav-list">
          {SECTIONS.map((section) => (
            <NavItem
              key={section.key}
              section={section}
              active={page}
              onGo={go}
              count={section.key === "marketplace" ? updates : 0}
            />
          ))}
        </ul>
        <ul className="nav-list nav-list-bottom">
          <NavItem section={SETTINGS} active={page} onGo={go} />
        </ul>
        <span id="nav-soon" className="visually-hidden">
          Coming soon
        </span>
      </nav>
      <div className="app-content">
        {unconfined && (
          <div className="banner banner-danger app-banner" role="alert" data-testid="unconfined-banner">
            <span className="banner-icon" aria-hidden="true">
              ⚠️
            </span>
            <div className="banner-body">
              <span className="banner-title">Code capabilities run without full confinement</span>
              <span>
                The sandbox check is off (Settings → Sandbox): code may run without Landlock or seccomp.{" "}
                <button type="button" className="link-button" onClick={() => go("settings")}>
                  Turn it back on
                </button>
              </span>
            </div>
          </div>
        )}
        {page === "library" && <LibraryPage key={visit} open={open} onOpenInBuilder={buildCapability} />}
        {page === "activity" && <ActivityPage key={visit} onOpenCapability={openCapability} />}
        {page === "builder" && (
          <Suspense
            fallback={
              <div className="state" role="status" data-testid="loading">
                <span className="spinner" aria-hidden="true" />
              </div>
            }
          >
            <BuilderPage key={visit} open={openInBuilder} />
          </Suspense>
        )}
        {page === "marketplace" && (
          <MarketplacePage key={visit} onOpenSettings={() => go("settings")} onChanged={onMarketChanged} />
        )}
        {page === "agents" && <AgentsPage key={visit} />}
        {page === "settings" && <SettingsPage key={visit} />}
      </div>
    </div>
  );
}

type NavItemProps = {
  section: Section;
  active: Page;
  onGo: (page: Page) => void;
  /** Something waiting there (e.g. updates), shown as a small count. */
  count?: number;
};

function NavItem({ section, active, onGo, count = 0 }: NavItemProps) {
  if (!section.ready) {
    return (
      <li>
        {/* aria-disabled rather than disabled, so the tooltip still shows on hover and focus. */}
        <button
          type="button"
          className="nav-item"
          aria-disabled="true"
          aria-describedby="nav-soon"
          data-tooltip="Coming soon"
          data-testid={`nav-${section.key}`}
        >
          <span className="nav-icon" aria-hidden="true">
            {section.icon}
          </span>
          {section.label}
          <span className="soon" aria-hidden="true">
            soon
          </span>
        </button>
      </li>
    );
  }
  const current = section.key === active;
  return (
    <li>
      <button
        type="button"
        className={`nav-item${current ? " is-active" : ""}`}
        aria-current={current ? "page" : undefined}
        data-testid={`nav-${section.key}`}
        // In a narrow window only the icon shows; the title names it.
        title={section.label}
        onClick={() => onGo(section.key)}
      >
        <span className="nav-icon" aria-hidden="true">
          {section.icon}
        </span>
        {section.label}
        {count > 0 && (
          <span className="nav-count" data-testid={`nav-${section.key}-count`} title={`${count} update${count === 1 ? "" : "s"} available`}>
            {count}
          </span>
        )}
      </button>
    </li>
  );
}
