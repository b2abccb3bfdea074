// What the latest version asks for, in plain words: its permissions, the hosts it may connect
// to, the configuration it needs, and what it brings along.
import type { PermissionWords } from "../../generated/PermissionWords";
import type { VersionInfo } from "../../generated/VersionInfo";

/** `words`: the version's permissions described by the core (one vocabulary for the app and CLI). */
export function PermissionsPanel({ version, words }: { version: VersionInfo | null; words: Array<PermissionWords> }) {
  if (version === null) {
    return (
      <section className="market-side-section card-surface" data-testid="market-permissions">
        <h3 className="panel-heading">Permissions</h3>
        <p className="muted small">No version is available to you.</p>
      </section>
    );
  }
  return (
    <section className="market-side-section card-surface" data-testid="market-permissions" aria-label="Permissions">
      <h3 className="panel-heading">Permissions</h3>
      <p className="muted small">What v{version.version} may do once installed.</p>
      {words.length === 0 ? (
        <p className="small">It asks for no permissions.</p>
      ) : (
        <ul className="permission-words">
          {words.map(({ name, description }) => (
            <li key={name} data-testid={`market-permission-${name}`}>
              <span>{description}</span>
              <code className="muted small">{name}</code>
            </li>
          ))}
        </ul>
      )}
      <h3 className="panel-heading">May connect to</h3>
      {version.domains.length === 0 ? (
        <p className="small">No hosts: it does not use the network.</p>
      ) : (
        <ul className="chips" data-testid="market-domains">
          {version.domains.map((domain) => (
            <li key={domain} className="chip mono small">
              {domain}
            </li>
          ))}
        </ul>
      )}
      {version.configuration.length > 0 && (
        <>
          <h3 className="panel-heading">Needs configuration</h3>
          <ul className="market-config-keys small">
            {version.configuration.map((key) => (
              <li key={key.key}>
                {key.secret && <span title="A secret, kept in the OS keyring">🔒 </span>}
                {key.label ?? key.key} <code className="muted">{key.key}</code>
                {key.required && <span className="required"> required</span>}
              </li>
            ))}
          </ul>
        </>
      )}
      {version.dependencies.length > 0 && (
        <>
          <h3 className="panel-heading">Installs along</h3>
          <ul className="chips">
            {version.dependencies.map((dep) => (
              <li key={dep.id} className="chip mono small">
                {dep.id} {dep.version}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
