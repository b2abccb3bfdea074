// The permissions, hosts and callable capabilities a plan asks for. For an update, what it adds
// is marked "new" and what it drops is struck through, so the user sees exactly what changes.
import type { InstallPlan } from "../../generated/InstallPlan";

export function ConsentGrants({ plan }: { plan: InstallPlan }) {
  const update = plan.current !== null;
  const added = new Set(plan.added_permissions.map((p) => p.name));
  const addedDomains = new Set(plan.added_domains);

  return (
    <>
      <h3 className="panel-heading">{update ? "Permissions after the update" : "It will be allowed to"}</h3>
      {plan.permissions.length === 0 && plan.removed_permissions.length === 0 ? (
        <p className="muted small">It asks for no permissions.</p>
      ) : (
        <ul className="consent-permissions">
          {plan.permissions.map((p) => {
            const isNew = update && added.has(p.name);
            return (
              <li
                key={p.name}
                className={isNew ? "is-added" : undefined}
                data-testid={isNew ? `consent-added-${p.name}` : `consent-permission-${p.name}`}
              >
                <span className="consent-permission-words">
                  {p.description}
                  {isNew && <span className="badge badge-amber">new</span>}
                </span>
                <code className="muted small">{p.name}</code>
              </li>
            );
          })}
          {plan.removed_permissions.map(({ name, description }) => (
            <li key={name} className="is-removed" data-testid={`consent-removed-${name}`}>
              <span className="consent-permission-words">
                <del>{description}</del>
                <span className="badge badge-gray">removed</span>
              </span>
              <code className="muted small">
                <del>{name}</del>
              </code>
            </li>
          ))}
        </ul>
      )}

      <h3 className="panel-heading">May connect to</h3>
      {plan.domains.length === 0 && plan.removed_domains.length === 0 ? (
        <p className="muted small" data-testid="consent-domains">
          No hosts: it does not use the network.
        </p>
      ) : (
        <ul className="chips" data-testid="consent-domains">
          {plan.domains.map((domain) => {
            const isNew = update && addedDomains.has(domain);
            return (
              <li
                key={domain}
                className={`chip mono small${isNew ? " chip-added" : ""}`}
                data-testid={isNew ? `consent-added-domain-${domain}` : undefined}
              >
                {domain}
                {isNew && <span className="badge badge-amber">new</span>}
              </li>
            );
          })}
          {plan.removed_domains.map((domain) => (
            <li key={domain} className="chip mono small chip-removed" data-testid={`consent-removed-domain-${domain}`}>
              <del>{domain}</del>
            </li>
          ))}
        </ul>
      )}

      {plan.capabilities.length > 0 && (
        <>
          <h3 className="panel-heading">May call</h3>
          <ul className="consent-permissions" data-testid="consent-capabilities">
            {plan.capabilities.map((capability) => (
              <li key={capability} data-testid={`consent-capability-${capability}`}>
                <span className="consent-permission-words">
                  May call the capability <code>{capability}</code>
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
