//! Renderers of `cmflow flows`.
