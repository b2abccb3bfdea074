// Every version the reader may see, newest first: when it was published, whether the publisher's
// tests passed, and whether it was revoked, yanked or still awaits an organization admin's approval.
import type { VersionInfo } from "../../generated/VersionInfo";
import { formatBytes, formatDate, formatExact } from "../../lib/format";

export function VersionsTable({ versions, installed }: { versions: ReadonlyArray<VersionInfo>; installed: string | null }) {
  return (
    <section className="market-section" aria-labelledby="market-versions-title">
      <h3 id="market-versions-title" className="panel-heading">
        Versions
      </h3>
      {versions.length === 0 ? (
        <p className="panel-empty">No versions are visible to you.</p>
      ) : (
        <div className="table-scroll">
          <table className="table" data-testid="market-versions">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Published</th>
                <th scope="col">Tests at publish</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.version} data-testid={`market-version-${v.version}`} className={v.yanked !== null || v.revoked !== null ? "is-yanked" : undefined}>
                  <td>
                    <span className="mono">{v.version}</span>
                    {v.version === installed && <span className="badge badge-green market-inline-badge">installed</span>}
                    <span className="muted small block">{formatBytes(v.size)}</span>
                  </td>
                  <td>
                    <time dateTime={v.published_at} title={formatExact(v.published_at)}>
                      {formatDate(v.published_at)}
                    </time>
                  </td>
                  <td>
                    <TestsCell passed={v.tests_passed} total={v.tests_total} />
                  </td>
                  <td>
                    {v.revoked !== null ? (
                      <span className="field-error" data-testid="market-version-revoked">
                        revoked: {v.revoked}
                      </span>
                    ) : v.yanked !== null ? (
                      <span className="field-error" data-testid="market-version-yanked">
                        yanked: {v.yanked}
                      </span>
                    ) : !v.approved ? (
                      <span className="badge badge-amber">awaiting approval</span>
                    ) : (
                      <span className="muted small">available</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function TestsCell({ passed, total }: { passed: number; total: number }) {
  if (total === 0) return <span className="muted small">no tests</span>;
  if (passed === total) {
    return (
      <span className="saved small">
        ✓ tests passed at publish ({passed}/{total})
      </span>
    );
  }
  return (
    <span className="field-error">
      ✗ {passed}/{total} tests passed at publish
    </span>
  );
}
