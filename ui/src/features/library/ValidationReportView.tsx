// What the validator found in one file: the verdict, the capability it describes, and every
// finding with where it is and how to fix it.
import type { Diagnostic } from "../../generated/Diagnostic";
import type { ValidationReport } from "../../generated/ValidationReport";
import { describeLocation } from "../../lib/errors";
import { baseName, plural } from "../../lib/format";
import { KindBadge } from "./Badges";
import { FALLBACK_ICON, SEVERITIES } from "./registry";

export function ValidationReportView({ report, fileName }: { report: ValidationReport; fileName: string }) {
  const findings = [...report.errors, ...report.warnings];
  const preview = report.capability;
  const shownName = report.file ? baseName(report.file) : fileName;

  return (
    <section className="report" data-testid="validation-report" aria-label={`Validation report for ${shownName}`}>
      <div className={`report-head ${report.valid ? "is-valid" : "is-invalid"}`}>
        <div className="report-file">
          <span className="report-file-icon" aria-hidden="true">
            📄
          </span>
          <span className="mono" title={report.file}>
            {shownName}
          </span>
        </div>
        <div className="report-verdict">
          <span className="report-status" data-testid="report-status">
            {report.valid ? "✅ Valid" : "❌ Invalid"}
          </span>
          <span className="report-counts">
            {plural(report.errors.length, "error")}, {plural(report.warnings.length, "warning")}
          </span>
        </div>
      </div>

      {preview && (
        <div className="report-preview" data-testid="report-preview">
          <span className="preview-icon" aria-hidden="true">
            {preview.icon ?? FALLBACK_ICON}
          </span>
          <div className="preview-text">
            <div className="preview-title">
              <strong>{preview.name}</strong>
              <span className="version">v{preview.version}</span>
              <KindBadge kind={preview.kind} />
            </div>
            <div className="preview-id mono">{preview.id}</div>
            {preview.description && <p className="preview-description">{preview.description}</p>}
          </div>
        </div>
      )}

      {findings.length === 0 ? (
        <p className="report-clean">No problems found. This capability is ready to save.</p>
      ) : (
        <ul className="findings" aria-label="Findings">
          {findings.map((finding, index) => (
            <FindingRow key={`${finding.severity}-${finding.code}-${index}`} finding={finding} />
          ))}
        </ul>
      )}
    </section>
  );
}

/** One finding: code, message, where, and the hint (also under the Edit tab's editor). */
export function FindingRow({ finding }: { finding: Diagnostic }) {
  const severity = SEVERITIES[finding.severity] ?? SEVERITIES.error;
  const location = describeLocation(finding.line, finding.column);
  return (
    <li
      className={`finding finding-${finding.severity}`}
      data-testid="finding"
      data-code={finding.code}
      data-severity={finding.severity}
    >
      <span className="finding-icon" role="img" aria-label={severity.label}>
        {severity.icon}
      </span>
      <div className="finding-body">
        <div className="finding-line">
          <code className="finding-code">{finding.code}</code>
          <span className="finding-message">{finding.message}</span>
        </div>
        {(finding.path || location) && (
          <div className="finding-where">
            {finding.path && <code className="finding-path">{finding.path}</code>}
            {location && <span className="finding-location">{location}</span>}
          </div>
        )}
        {finding.hint && (
          <p className="finding-hint">
            <span aria-hidden="true">💡 </span>
            {finding.hint}
          </p>
        )}
      </div>
    </li>
  );
}
