// One capability in the library grid; the whole card opens its detail view.
import type { CapabilitySummary } from "../../generated/CapabilitySummary";
import { formatDate, plural } from "../../lib/format";
import { KindBadge, StatusBadge } from "./Badges";
import { FALLBACK_ICON } from "./registry";

const VISIBLE_TAGS = 4;

export function CapabilityCard({ capability, onOpen }: { capability: CapabilitySummary; onOpen: (id: string) => void }) {
  const { tags } = capability;
  const hiddenTags = tags.length - VISIBLE_TAGS;
  return (
    <li className="card-cell">
      <button
        type="button"
        className="card"
        data-testid="capability-card"
        data-id={capability.id}
        onClick={() => onOpen(capability.id)}
      >
        <span className="card-head">
          <span className="card-icon" aria-hidden="true">
            {capability.icon ?? FALLBACK_ICON}
          </span>
          <span className="card-title">
            <span className="card-name">{capability.name}</span>
            <span className="version">v{capability.version}</span>
          </span>
        </span>
        <span className="card-badges">
          <KindBadge kind={capability.kind} />
          <StatusBadge status={capability.status} />
        </span>
        <span className={`card-description${capability.description ? "" : " muted"}`}>
          {capability.description ?? "No description."}
        </span>
        {tags.length > 0 && (
          <span className="tags">
            {tags.slice(0, VISIBLE_TAGS).map((tag) => (
              <span key={tag} className="tag">
                #{tag}
              </span>
            ))}
            {hiddenTags > 0 && <span className="tag tag-more">+{hiddenTags}</span>}
          </span>
        )}
        <span className="card-foot">
          {capability.versions.length > 1 && <span>{plural(capability.versions.length, "version")}</span>}
          <span>Updated {formatDate(capability.updated_at)}</span>
        </span>
      </button>
    </li>
  );
}

export function CardGridSkeleton({ count = 6 }: { count?: number }) {
  return (
    <ul className="card-grid" aria-label="Loading capabilities" aria-busy="true" data-testid="loading">
      {Array.from({ length: count }, (_, i) => (
        <li key={i} className="card-cell">
          <div className="card card-skeleton" aria-hidden="true">
            <span className="card-head">
              <span className="skeleton skeleton-icon" />
              <span className="skeleton-lines">
                <span className="skeleton skeleton-line w-70" />
                <span className="skeleton skeleton-line w-30" />
              </span>
            </span>
            <span className="skeleton skeleton-line w-90" />
            <span className="skeleton skeleton-line w-60" />
          </div>
        </li>
      ))}
    </ul>
  );
}
