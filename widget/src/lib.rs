//! The embeddable Rapport survey widget. Placeholder until the widget lands.
