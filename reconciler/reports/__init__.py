"""Pure builders of what people read about access, from the model and live state: the
collaborator's access card (card) and the access review (access_report). Rendering to text,
Markdown or CSV is in reconciler.render. May import reconciler.model, errors, documents and plan."""
