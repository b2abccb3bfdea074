// "New capability": pick a starting point (blank, API connector, script) before the editor opens.
import { Modal } from "../../components/Modal";
import { STARTER_TEMPLATES, type StarterTemplate } from "./templates";

type TemplateChooserProps = {
  onChoose: (template: StarterTemplate) => void;
  onClose: () => void;
};

export function TemplateChooser({ onChoose, onClose }: TemplateChooserProps) {
  return (
    <Modal
      title="New capability"
      description="Choose a starting point. You can add, remove and connect nodes afterwards."
      size="small"
      onClose={onClose}
      testId="template-chooser"
      footer={
        <button type="button" className="button" data-testid="template-cancel" onClick={onClose}>
          Cancel
        </button>
      }
    >
      <ul className="template-choices" aria-label="Starting points">
        {STARTER_TEMPLATES.map((template, i) => (
          <li key={template.key}>
            <button
              type="button"
              className="template-choice"
              data-testid={`template-${template.key}`}
              data-autofocus={i === 0 ? true : undefined}
              onClick={() => onChoose(template)}
            >
              <span className="template-choice-icon" aria-hidden="true">
                {template.icon}
              </span>
              <span className="template-choice-text">
                <strong>{template.label}</strong>
                <span className="muted small">{template.description}</span>
              </span>
            </button>
          </li>
        ))}
      </ul>
    </Modal>
  );
}
