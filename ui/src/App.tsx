// The window's frame: a sidebar of sections and the active page. Only the library exists yet.
import { LibraryPage } from "./features/library/LibraryPage";

type Section = { key: string; label: string; icon: string; ready: boolean };

const SECTIONS: Array<Section> = [
  { key: "library", label: "My Capabilities", icon: "🧰", ready: true },
  { key: "builder", label: "Builder", icon: "🛠️", ready: false },
  { key: "marketplace", label: "Marketplace", icon: "🛍️", ready: false },
  { key: "agents", label: "Agents", icon: "🤖", ready: false },
];

export function App() {
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
          {SECTIONS.map((section) =>
            section.ready ? (
              <li key={section.key}>
                <button type="button" className="nav-item is-active" aria-current="page" data-testid={`nav-${section.key}`}>
                  <span className="nav-icon" aria-hidden="true">
                    {section.icon}
                  </span>
                  {section.label}
                </button>
              </li>
            ) : (
              <li key={section.key}>
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
            ),
          )}
        </ul>
        <span id="nav-soon" className="visually-hidden">
          Coming soon
        </span>
      </nav>
      <div className="app-content">
        <LibraryPage />
      </div>
    </div>
  );
}
